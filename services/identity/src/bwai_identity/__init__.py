"""Identity service: API clients, OAuth2 tokens, JWKS."""
