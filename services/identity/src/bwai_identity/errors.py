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


class TenantSlugTaken(IdentityError):
    status = 409
    code = "tenant-slug-taken"
    title = "Tenant slug already taken"


class PasswordPolicyViolated(IdentityError):
    status = 422
    code = "password-policy-violated"
    title = "Password does not meet the policy"


class CredentialsInvalid(IdentityError):
    """Wrong email or password, with one message whether or not the account exists."""

    status = 401
    code = "invalid-credentials"
    title = "Invalid credentials"


class EmailNotVerified(IdentityError):
    status = 403
    code = "email-not-verified"
    title = "Email address not verified"


class TooManyAttempts(IdentityError):
    """Sign-in or TOTP attempts are locked for a while; `Retry-After` gives the seconds."""

    status = 429
    code = "too-many-attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, retry_after=retry_after_s)
        self.headers = {"Retry-After": str(retry_after_s)}


class TotpRequired(IdentityError):
    status = 401
    code = "totp-required"
    title = "TOTP code required"


class TotpInvalid(IdentityError):
    status = 401
    code = "totp-invalid"
    title = "Invalid TOTP code"


class TotpNotEnrolled(IdentityError):
    status = 409
    code = "totp-not-enrolled"
    title = "TOTP is not enrolled"


class TotpAlreadyEnrolled(IdentityError):
    status = 409
    code = "totp-already-enrolled"
    title = "TOTP is already enrolled"


class TenantSelectionRequired(IdentityError):
    """The user belongs to several tenants and must name one; `tenants` lists them."""

    status = 409
    code = "tenant-selection-required"
    title = "Tenant selection required"


class TenantAccessDenied(IdentityError):
    status = 403
    code = "tenant-access-denied"
    title = "Not a member of this tenant"


class RefreshTokenInvalid(IdentityError):
    status = 401
    code = "refresh-token-invalid"
    title = "Invalid refresh token"


class EmailTokenInvalid(IdentityError):
    """An emailed token (verification, password reset, invitation) is unknown, used or expired."""

    status = 400
    code = "email-token-invalid"
    title = "Invalid or expired token"


class ResendTooSoon(IdentityError):
    status = 429
    code = "resend-too-soon"
    title = "Email sent recently"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, retry_after=retry_after_s)
        self.headers = {"Retry-After": str(retry_after_s)}


class UserNotFound(IdentityError):
    status = 404
    code = "user-not-found"
    title = "User not found"


class MemberNotFound(IdentityError):
    status = 404
    code = "member-not-found"
    title = "Member not found"


class LastOwnerRequired(IdentityError):
    status = 409
    code = "last-owner-required"
    title = "A tenant needs an owner"


class ClientNotFound(IdentityError):
    status = 404
    code = "client-not-found"
    title = "API client not found"


class SessionNotFound(IdentityError):
    status = 404
    code = "session-not-found"
    title = "Session not found"


class EmailAlreadyRegistered(IdentityError):
    status = 409
    code = "email-already-registered"
    title = "Email address already registered"
