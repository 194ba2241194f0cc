"""Request and response bodies of sign-up, verification and password endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bwai_identity.tenants.service import SLUG_PATTERN

Email = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class SignUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Email
    password: str = Field(min_length=1, max_length=1024)
    tenant: str = Field(pattern=SLUG_PATTERN, description="Slug of the new tenant you will own.")


class SignUpResponse(BaseModel):
    email: str
    verification_sent: bool
    next_step: str


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=512)


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Email


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
