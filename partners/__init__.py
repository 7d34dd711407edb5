"""Partner organisations, developer accounts, apps and keys (the developer portal)."""
