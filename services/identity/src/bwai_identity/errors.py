"""Identity's typed errors: problem+json errors and the OAuth 2.0 token endpoint errors."""

from __future__ import annotations

from bwai_core.errors import ServiceError


class IdentityError(ServiceError):
    code = "identity-error"
    title = "Identity error"


class TenantSlugInvalid(IdentityError):
    status = 422
    code = "tenant-slug-invalid"
    title = "Invalid tenant slug"


class ClientRoleInvalid(IdentityError):
    status = 422
    code = "client-role-invalid"
    title = "Invalid client role"


class SigningKeyMissing(IdentityError):
    status = 503
    code = "signing-key-missing"
    title = "No active signing key"


class OAuthError(Exception):
    """A token endpoint error, returned in the RFC 6749 section 5.2 JSON form, not problem+json."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class InvalidClient(OAuthError):
    """Unknown client, wrong secret, revoked client or no client authentication (401)."""

    def __init__(self, description: str = "client authentication failed") -> None:
        super().__init__("invalid_client", description, status=401)
