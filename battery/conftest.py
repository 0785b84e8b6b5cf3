"""The reliability and security battery: `make battery` (CI size) and `make soak`."""
