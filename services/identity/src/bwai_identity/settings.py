"""Identity's settings: token lifetime and how long retired signing keys stay published."""

from __future__ import annotations

from bwai_core.settings import ServiceSettings
from bwai_web.service import ServiceContext
from pydantic import Field


class IdentitySettings(ServiceSettings):
    # Access tokens are short-lived because they cannot be revoked before they expire.
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # How long verifiers may cache the JWKS document (Cache-Control max-age).
    jwks_max_age_seconds: int = Field(default=300, ge=0)
    # A retired key stays in the JWKS this long, which must exceed the token lifetime so that
    # tokens signed just before a rotation still verify.
    retired_key_publish_seconds: int = Field(default=86_400, ge=3600)


def identity_settings(ctx: ServiceContext) -> IdentitySettings:
    """Return the context's settings, which the runtime builds from SERVICE.settings_class."""
    if not isinstance(ctx.settings, IdentitySettings):
        raise TypeError("identity needs IdentitySettings in its ServiceContext")
    return ctx.settings
