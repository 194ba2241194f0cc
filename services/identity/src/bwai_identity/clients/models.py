"""Request and response bodies of the client endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bwai_identity.tenants.service import SLUG_PATTERN


class CreateClientRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(pattern=SLUG_PATTERN, description="Tenant slug; created when new.")
    role: Literal["tenant", "operator"]
    name: str | None = Field(default=None, min_length=1, max_length=200)


class CreatedClientResponse(BaseModel):
    client_id: str
    client_secret: str = Field(description="Shown only in this response; store it now.")
    tenant_id: str
    tenant: str
    tenant_created: bool
    role: Literal["tenant", "operator"]
    name: str | None
