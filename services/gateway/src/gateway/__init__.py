"""Channel Suite gateway: authentication, routing, rate limits and the merged OpenAPI document."""
