"""Identity's settings: token lifetimes, key rotation, passwords, TOTP, throttling and mail."""

from __future__ import annotations

from bwai_core.settings import ServiceSettings
from bwai_web.service import ServiceContext
from pydantic import Field


class IdentitySettings(ServiceSettings):
    # Access tokens are short-lived because they cannot be revoked before they expire.
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # A session (and its refresh tokens) ends this long after sign-in, however often refreshed.
    session_ttl_seconds: int = Field(default=30 * 86_400, ge=3600)
    # How long verifiers may cache the JWKS document (Cache-Control max-age). A pending key is
    # published at least this long before it signs, so no verifier meets an unknown kid.
    jwks_max_age_seconds: int = Field(default=300, ge=0)
    # A retired key stays in the JWKS this long, which must exceed the token lifetime so that
    # tokens signed just before a rotation still verify.
    retired_key_publish_seconds: int = Field(default=86_400, ge=3600)

    # Where links in emails point: the public base URL of the API.
    public_base_url: str = "http://127.0.0.1:8000"
    email_verification_ttl_seconds: int = Field(default=86_400, ge=300)
    password_reset_ttl_seconds: int = Field(default=3600, ge=300)
    invitation_ttl_seconds: int = Field(default=7 * 86_400, ge=3600)
    # Resending a verification email: at most one per interval per address.
    email_resend_interval_seconds: int = Field(default=60, ge=1)

    password_min_length: int = Field(default=12, ge=8, le=128)

    # Roles whose sign-in needs a TOTP code besides the password (comma-separated), e.g.
    # BWAI_TOTP_REQUIRED_ROLES=operator,admin,owner.
    totp_required_roles: str = "operator,admin"
    totp_issuer: str = "Build With AI"
    step_up_ttl_seconds: int = Field(default=300, ge=30, le=900)

    # Failed sign-ins are free up to this count per account (per client address: the second
    # number, higher because many people can share one address); after that each failure
    # doubles the lock, from 1 second up to the maximum.
    login_free_failures_per_account: int = Field(default=5, ge=1)
    login_free_failures_per_address: int = Field(default=20, ge=1)
    login_max_lock_seconds: int = Field(default=900, ge=1)
    # Failures older than this no longer count.
    login_failure_window_seconds: int = Field(default=3600, ge=60)

    @property
    def totp_roles(self) -> frozenset[str]:
        return frozenset(role.strip() for role in self.totp_required_roles.split(",") if role)


def identity_settings(ctx: ServiceContext) -> IdentitySettings:
    """Return the context's settings, which the runtime builds from SERVICE.settings_class."""
    if not isinstance(ctx.settings, IdentitySettings):
        raise TypeError("identity needs IdentitySettings in its ServiceContext")
    return ctx.settings
