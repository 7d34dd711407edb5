"""The FAPI 2.0 authorization server: PAR, PKCE, private_key_jwt, DPoP, tokens."""
