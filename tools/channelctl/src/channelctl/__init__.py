"""channelctl: the Channel Suite command line."""
