"""Resource APIs, one package per API family (UK Open Banking v4.0 and our own)."""
