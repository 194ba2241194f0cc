"""API clients: created with a role for a tenant, authenticated by id and secret."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple
from uuid import UUID

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_core.db import transaction
from bwai_core.errors import Forbidden
from bwai_core.ids import new_id
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.auth import Principal

from bwai_identity.clients import repository
from bwai_identity.clients.secrets import hash_secret, needs_rehash, new_secret, verify_secret
from bwai_identity.errors import ClientNotFound, ClientRoleInvalid, InvalidClient
from bwai_identity.tenants.service import ensure_tenant

log = structlog.get_logger()

ROLES = frozenset({"tenant", "operator"})


class CreatedClient(NamedTuple):
    """A new client; `client_secret` exists only here and is never stored or shown again."""

    client_id: str
    client_secret: str
    tenant_id: str
    tenant_created: bool


class AuthenticatedClient(NamedTuple):
    client_id: str
    tenant_id: str
    role: str


async def create_client(
    pool: asyncpg.Pool,
    tenant: str,
    role: str,
    name: str | None,
    clock: Clock,
    *,
    schemas: SchemaRegistry | None = None,
) -> CreatedClient:
    """Create an API client with `role` for the tenant with slug `tenant`, creating the tenant.

    The tenant, the client and the `identity.tenant.created` event (for a new tenant) commit in
    one transaction. Raises TenantSlugInvalid or ClientRoleInvalid (422) for bad input.
    """
    if role not in ROLES:
        raise ClientRoleInvalid(f"role {role!r} is invalid: use 'tenant' or 'operator'")
    secret = new_secret()
    secret_hash = await hash_secret(secret)
    client_id = new_id()

    async with transaction(pool) as conn:
        tenant_id, tenant_created = await ensure_tenant(
            conn, tenant, clock=clock, schemas=schemas or _default_schemas()
        )
        await repository.insert_client(
            conn,
            client_id=client_id,
            tenant_id=tenant_id,
            role=role,
            secret_hash=secret_hash,
            name=name,
            created_at=clock.now(),
        )
    log.info(
        "identity.client.created", client_id=str(client_id), tenant_id=str(tenant_id), role=role
    )
    return CreatedClient(str(client_id), secret, str(tenant_id), tenant_created)


async def authenticate_client(
    pool: asyncpg.Pool, client_id: str, secret: str
) -> AuthenticatedClient:
    """Return the client when the secret matches and it is not revoked; else raise InvalidClient.

    Every failure costs one argon2 check, so timing does not tell which client ids exist.
    """
    row = await _find_client(pool, client_id)
    usable_hash = row["secret_hash"] if row is not None and row["revoked_at"] is None else None
    matched = await verify_secret(usable_hash, secret)
    if row is None or usable_hash is None or not matched:
        log.info("identity.client.authentication_failed", client_id=client_id[:64])
        raise InvalidClient()

    if needs_rehash(usable_hash):
        await repository.update_secret_hash(pool, row["id"], await hash_secret(secret))
    return AuthenticatedClient(str(row["id"]), str(row["tenant_id"]), row["role"])


async def _find_client(pool: asyncpg.Pool, client_id: str) -> asyncpg.Record | None:
    try:
        parsed = UUID(client_id)
    except ValueError:
        return None
    return await repository.get_client(pool, parsed)


@cache
def _default_schemas() -> SchemaRegistry:
    return SchemaRegistry.default()


async def revoke_client(
    pool: asyncpg.Pool, client_id: UUID, *, principal: Principal, clock: Clock
) -> None:
    """Revoke an API client: operators any, tenant owners their tenant's; new tokens stop.

    Tokens issued before stay valid until they expire (at most the access token lifetime).
    """
    if principal.is_operator:
        tenant_id = None
    elif principal.has_role("owner") and principal.tenant_id is not None:
        tenant_id = UUID(principal.tenant_id)
    else:
        raise Forbidden("only operators and tenant owners revoke API clients")
    revoked = await repository.revoke_client(
        pool, client_id, now=clock.now(), revoked_by=principal.subject, tenant_id=tenant_id
    )
    if not revoked:
        raise ClientNotFound(f"no live API client {client_id} that you may revoke")
    log.info("identity.client.revoked", client_id=str(client_id), revoked_by=principal.subject)
