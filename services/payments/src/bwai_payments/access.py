"""Which tenant a caller acts for: a tenant's token its own; an operator names one."""

from __future__ import annotations

from typing import Annotated

from bwai_core.errors import Forbidden
from bwai_web.auth import Principal, require_roles
from fastapi import Depends

from bwai_payments.errors import TenantNotAllowed, TenantRequired

Caller = Annotated[Principal, Depends(require_roles("tenant", "operator"))]
# Reads: viewers read their tenant's rows but cannot mutate them.
Reader = Annotated[Principal, Depends(require_roles("viewer", "tenant", "operator"))]


def visible_tenant(principal: Principal) -> str | None:
    """Return the tenant whose rows the caller may see; None means every tenant (operator)."""
    if principal.is_operator:
        return None
    if principal.tenant_id is None:
        raise Forbidden("this token has the tenant role but no tenant_id claim")
    return principal.tenant_id


def acting_tenant(principal: Principal, requested: str | None) -> str:
    """Return the tenant a new row belongs to; operators must name it in `tenant`."""
    own = visible_tenant(principal)
    if own is None:
        if requested is None:
            raise TenantRequired("operators must name the tenant in the `tenant` field")
        return requested
    if requested is not None and requested != own:
        raise TenantNotAllowed("a tenant token can only create orders for its own tenant")
    return own
