"""Every route of every service, called as every kind of caller, against an allow/deny table.

The routes come from the running embedded platform's apps, so a new endpoint without a row in
RULES fails here. Each request is valid apart from its credentials, so that authorization
decides: "deny" means 401 or 403, and "allow" means any other status (a 404 for a made-up id
still shows that the caller got past the role check).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bwai_cli.embedded import Platform
from bwai_core.clock import SystemClock
from bwai_identity.operators import create_operator
from bwai_messaging.schemas import SchemaRegistry
from bwai_providers.coinbase import sign_webhook
from bwai_providers.nowpayments import sign_ipn
from bwai_web.stepup import STEP_UP_HEADER
from fastapi.routing import iter_route_contexts

from tests.e2e.accounts import (
    PASSWORD,
    Account,
    enrol_totp,
    link_in,
    login,
    login_with_totp,
    sign_up,
    step_up,
    token_of,
    verify_from_mail,
    wait_for_mail,
)
from tests.e2e.conftest import drop_databases, new_client, start_platform
from tests.e2e.flow import create_order, token_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers" / "payloads"
SERVICES = ("identity", "payments", "webhooks-ingest")

ROLES = (
    "anonymous",
    "tenant_client",
    "operator_client",
    "viewer",
    "member",
    "owner",
    "operator",
    "admin",
)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
# Users only: API clients have no password, TOTP or sessions.
USERS = frozenset({"viewer", "member", "owner", "operator", "admin"})
TENANT_READ = SIGNED_IN
# Viewers read but never mutate.
TENANT_WRITE = SIGNED_IN - {"viewer"}
# Managing a tenant's members and API clients: its owners and the platform's operators.
TENANT_ADMIN = frozenset({"owner", "operator_client", "operator", "admin"})
OPERATORS = frozenset({"operator_client", "operator", "admin"})
ADMINS = frozenset({"admin"})
# Platform staff who are people: only they can approve an action with a TOTP step-up.
STAFF = frozenset({"operator", "admin"})

# (method, path template) -> the roles allowed. HEAD follows the GET rule of the same path.
RULES: dict[tuple[str, str], frozenset[str]] = {
    # Probes, metrics for the scraper on the private network, and the API docs are public.
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    # Identity: signing in and the steps before it are public.
    ("POST", "/v1/oauth/token"): EVERYONE,
    ("GET", "/.well-known/jwks.json"): EVERYONE,
    ("POST", "/v1/auth/signup"): EVERYONE,
    ("POST", "/v1/auth/verify-email"): EVERYONE,
    ("GET", "/v1/auth/verify-email"): EVERYONE,
    ("POST", "/v1/auth/verify-email/resend"): EVERYONE,
    ("POST", "/v1/auth/password-reset"): EVERYONE,
    ("POST", "/v1/auth/password-reset/confirm"): EVERYONE,
    ("POST", "/v1/auth/login"): EVERYONE,
    ("POST", "/v1/auth/refresh"): EVERYONE,
    ("POST", "/v1/invitations/accept"): EVERYONE,
    ("POST", "/v1/auth/logout"): SIGNED_IN,
    ("GET", "/v1/auth/me"): SIGNED_IN,
    ("GET", "/v1/auth/sessions"): SIGNED_IN,
    ("DELETE", "/v1/auth/sessions/{session_id}"): SIGNED_IN,
    ("POST", "/v1/auth/password"): USERS,
    ("POST", "/v1/auth/totp/enrolment"): USERS,
    ("GET", "/v1/auth/totp/enrolment/qr.svg"): USERS,
    ("POST", "/v1/auth/totp/confirm"): USERS,
    ("POST", "/v1/auth/step-up"): USERS,
    ("GET", "/v1/tenants/{tenant_id}/members"): TENANT_READ,
    ("POST", "/v1/tenants/{tenant_id}/invitations"): TENANT_ADMIN,
    ("PUT", "/v1/tenants/{tenant_id}/members/{user_id}"): TENANT_ADMIN,
    ("DELETE", "/v1/clients/{client_id}"): TENANT_ADMIN,
    ("POST", "/v1/clients"): OPERATORS,
    ("POST", "/v1/users/{user_id}/sessions/revoke"): OPERATORS,
    ("PUT", "/v1/users/{user_id}/platform-role"): ADMINS,
    ("POST", "/v1/admin/identity/keys/rotate"): ADMINS,
    # Payments: tenants act on their own orders, operators on all.
    ("GET", "/v1/orders"): TENANT_READ,
    ("GET", "/v1/orders/{order_id}"): TENANT_READ,
    ("GET", "/v1/orders/{order_id}/transactions"): TENANT_READ,
    ("GET", "/v1/payments/{payment_id}"): TENANT_READ,
    ("POST", "/v1/orders"): TENANT_WRITE,
    ("POST", "/v1/orders/{order_id}/payments"): TENANT_WRITE,
    ("POST", "/v1/orders/{order_id}/cancel"): TENANT_WRITE,
    ("GET", "/v1/payments/{payment_id}/refunds"): TENANT_READ,
    ("GET", "/v1/refunds/{refund_id}"): TENANT_READ,
    ("GET", "/v1/payments/{payment_id}/disputes"): TENANT_READ,
    ("GET", "/v1/disputes/{dispute_id}"): TENANT_READ,
    # Refunds and disputes: operators who are people, each with a fresh TOTP step-up.
    ("POST", "/v1/payments/{payment_id}/refunds"): STAFF,
    ("POST", "/v1/refunds/{refund_id}/verify"): STAFF,
    ("POST", "/v1/refunds/{refund_id}/confirm"): STAFF,
    ("POST", "/v1/payments/{payment_id}/disputes"): STAFF,
    ("POST", "/v1/disputes/{dispute_id}/resolve"): STAFF,
    ("GET", "/v1/audit"): OPERATORS,
    ("POST", "/v1/reconciliation/runs"): OPERATORS,
    ("GET", "/v1/reconciliation/runs"): OPERATORS,
    ("GET", "/v1/reconciliation/runs/{run_id}"): OPERATORS,
    ("GET", "/v1/reconciliation/runs/{run_id}/report.csv"): OPERATORS,
    ("GET", "/v1/reconciliation/runs/{run_id}/report.html"): OPERATORS,
    ("POST", "/v1/reconciliation/imports"): OPERATORS,
    ("POST", "/v1/reconciliation/records/{record_id}/resolve"): OPERATORS,
    # Webhooks-ingest: providers call these; the signature is the proof, not a token.
    ("POST", "/v1/webhooks/nowpayments"): EVERYONE,
    ("POST", "/v1/webhooks/coinbase-commerce"): EVERYONE,
    ("POST", "/v1/webhooks/nowpayments/payouts"): EVERYONE,
}
for _service in SERVICES:
    RULES[("GET", f"/v1/admin/{_service}/dead-letters")] = OPERATORS
    RULES[("GET", f"/v1/admin/{_service}/dead-letters/{{message_id}}")] = OPERATORS
    RULES[("POST", f"/v1/admin/{_service}/dead-letters/{{message_id}}/replay")] = OPERATORS


@dataclass
class World:
    """The platform and one caller of each kind, all on one tenant where a tenant applies."""

    platform: Platform
    tenant_slug: str
    tenant_id: str
    accounts: dict[str, Account]
    client_tokens: dict[str, str]
    viewer_id: str
    order_id: str
    cancel_order_id: str
    http: httpx.AsyncClient
    # A verified user without TOTP, whose credentials the sign-in routes are called with.
    signer: Account

    def auth(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        if role in self.client_tokens:
            return {"Authorization": f"Bearer {self.client_tokens[role]}"}
        return self.accounts[role].auth


@dataclass
class Call:
    path: str
    json_body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


Builder = Callable[[World, str], Awaitable[Call]]


@pytest.fixture(scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str
) -> AsyncIterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        # Small pools: the test database server is shared with other suites.
        patch.setenv("BWAI_DATABASE_POOL_MIN", "1")
        patch.setenv("BWAI_DATABASE_POOL_MAX", "4")
        platform = await start_platform(tmp_path_factory.mktemp("role-matrix"), pg_admin_dsn)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            yield await _build_world(platform, http)
    finally:
        await platform.stop()
        await drop_databases(pg_admin_dsn, platform.config.database_prefix)


async def _build_world(platform: Platform, http: httpx.AsyncClient) -> World:
    api, mail = platform.api_url, platform.mail_url
    run = uuid.uuid4().hex[:8]
    slug = f"matrix-{run}"

    owner = Account(email=f"owner-{run}@example.test")
    response = await sign_up(http, api, owner.email, slug)
    assert response.status_code == 202, response.text
    await verify_from_mail(http, api, mail, owner.email)
    tokens = await login(http, api, owner)
    tenant_id = tokens["tenant_id"]

    accounts = {"owner": owner}
    for role in ("member", "viewer"):
        accounts[role] = await _invited(http, platform, owner, tenant_id, role, run)
    for role in ("operator", "admin"):
        accounts[role] = await _staff(http, platform, role, run)
    for role in ("owner", "member", "viewer"):
        # Enrolled like the staff, so every user meets the TOTP routes in the same state.
        await enrol_totp(http, api, accounts[role])
    signer = Account(email=f"signer-{run}@example.test")
    response = await sign_up(http, api, signer.email, f"signer-{run}")
    assert response.status_code == 202, response.text
    await verify_from_mail(http, api, mail, signer.email)

    client_tokens = {}
    for role, tenant in (("tenant_client", slug), ("operator_client", f"ops-{run}")):
        client_id, secret = await new_client(platform, tenant, role.removesuffix("_client"))
        auth = await token_for(http, api, client_id, secret)
        client_tokens[role] = auth["Authorization"].removeprefix("Bearer ")

    me = await http.get(f"{api}/v1/auth/me", headers=accounts["viewer"].auth)
    order = await create_order(http, api, owner.auth)
    to_cancel = await create_order(http, api, owner.auth)
    return World(
        platform,
        slug,
        tenant_id,
        accounts,
        client_tokens,
        me.json()["subject"],
        order["id"],
        to_cancel["id"],
        http,
        signer,
    )


async def _invited(
    http: httpx.AsyncClient, platform: Platform, owner: Account, tenant_id: str, role: str, run: str
) -> Account:
    account = Account(email=f"{role}-{run}@example.test")
    response = await http.post(
        f"{platform.api_url}/v1/tenants/{tenant_id}/invitations",
        headers=owner.auth,
        json={"email": account.email, "role": role},
    )
    assert response.status_code == 202, response.text
    message = await wait_for_mail(http, platform.mail_url, account.email, "You are invited")
    response = await http.post(
        f"{platform.api_url}/v1/invitations/accept",
        json={"token": token_of(link_in(message)), "password": account.password},
    )
    assert response.status_code == 200, response.text
    await login(http, platform.api_url, account)
    return account


async def _staff(http: httpx.AsyncClient, platform: Platform, role: str, run: str) -> Account:
    """Create a platform operator or admin; sign-in needs TOTP for these roles by default."""
    identity = next(host for host in platform.hosts if host.name == "identity")
    assert identity.ctx is not None
    account = Account(email=f"{role}-{run}@example.test")
    await create_operator(
        identity.ctx.pool,
        email=account.email,
        password=account.password,
        role=role,  # type: ignore[arg-type]
        clock=SystemClock(),
        schemas=SchemaRegistry.default(),
    )
    first = await login(http, platform.api_url, account)
    assert first["totp_enrolment_required"] is True
    await enrol_totp(http, platform.api_url, account)
    tokens = await login_with_totp(http, platform.api_url, account)
    assert tokens["roles"] == [role]
    return account


# Requests: path parameters, bodies and headers that pass validation for an allowed caller.


def _path_values(world: World) -> dict[str, str]:
    made_up = str(uuid.uuid4())
    return {
        "tenant_id": world.tenant_id,
        "user_id": world.viewer_id,
        "order_id": world.order_id,
        "payment_id": made_up,
        "client_id": made_up,
        "session_id": made_up,
        "message_id": made_up,
        "run_id": made_up,
        "record_id": "1",
        "refund_id": made_up,
        "dispute_id": made_up,
    }


def _fixed(**call: Any) -> Builder:
    async def build(world: World, role: str) -> Call:
        return Call(path="", **call)

    return build


async def _token_request(world: World, role: str) -> Call:
    client_id, secret = await new_client(world.platform, world.tenant_slug, "tenant")
    form = f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return Call(path="", content=form.encode(), headers=headers)


async def _login_request(world: World, role: str) -> Call:
    signer = world.signer
    return Call(path="", json_body={"email": signer.email, "password": signer.password})


async def _refresh_request(world: World, role: str) -> Call:
    # A refresh token works once, so each caller gets a fresh one from a new sign-in.
    signer = Account(email=world.signer.email)
    await login(world.http, world.platform.api_url, signer)
    return Call(path="", json_body={"refresh_token": signer.refresh_token})


async def _step_up_request(world: World, role: str) -> Call:
    account = world.accounts.get(role)
    code = account.recovery_codes.pop() if account is not None else "123456"
    return Call(path="", json_body={"code": code, "action": "refund", "target": "matrix"})


async def _rotate_request(world: World, role: str) -> Call:
    # Staff bring a valid approval, so only the admin role separates allowed from denied.
    if role not in ("operator", "admin"):
        return Call(path="")
    account = world.accounts[role]
    token = await step_up(
        world.http, world.platform.api_url, account, "key_rotation", "signing-keys"
    )
    return Call(path="", headers={STEP_UP_HEADER: token})


def _approved(action: str, template: str, parameter: str, body: dict[str, Any]) -> Builder:
    """Build a request whose step-up approval is valid for staff, so the role alone decides."""

    async def build(world: World, role: str) -> Call:
        target = str(uuid.uuid4())
        path = template.format(**{**_path_values(world), parameter: target})
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        if role in STAFF:
            account = world.accounts[role]
            api_url = world.platform.api_url
            headers[STEP_UP_HEADER] = await step_up(world.http, api_url, account, action, target)
        return Call(path=path, json_body=body, headers=headers)

    return build


async def _payout_request(world: World, role: str) -> Call:
    assert world.platform.secrets is not None
    payout = {
        "id": "5000000001",
        "batch_withdrawal_id": "5000000000",
        "status": "FINISHED",
        "currency": "btc",
        "amount": "0.0001",
        "address": "matrix-test-address",
    }
    raw = json.dumps(payout).encode()
    signature = sign_ipn(raw, world.platform.secrets.nowpayments_ipn_secret)
    headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
    return Call(path="", content=raw, headers=headers)


async def _new_order_request(world: World, role: str) -> Call:
    body = {"amount": "5.00", "currency": "USD", "tenant": world.tenant_id}
    return Call(path="", json_body=body, headers={"Idempotency-Key": str(uuid.uuid4())})


async def _payment_request(world: World, role: str) -> Call:
    body = {"provider": "nowpayments", "pay_currency": "btc"}
    return Call(path="", json_body=body, headers={"Idempotency-Key": str(uuid.uuid4())})


async def _cancel_request(world: World, role: str) -> Call:
    return Call(path=f"/v1/orders/{world.cancel_order_id}/cancel")


async def _invitation_request(world: World, role: str) -> Call:
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.test"
    return Call(path="", json_body={"email": email, "role": "viewer"})


async def _signup_request(world: World, role: str) -> Call:
    # A registered address gets the same response, and no tenant is created.
    body = {"email": world.accounts["viewer"].email, "password": PASSWORD, "tenant": "unused"}
    return Call(path="", json_body=body)


async def _nowpayments_request(world: World, role: str) -> Call:
    assert world.platform.secrets is not None
    raw = (FIXTURES / "nowpayments-ipn-waiting.json").read_bytes()
    signature = sign_ipn(raw, world.platform.secrets.nowpayments_ipn_secret)
    headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
    return Call(path="", content=raw, headers=headers)


async def _coinbase_request(world: World, role: str) -> Call:
    assert world.platform.secrets is not None
    raw = json.dumps(json.loads((FIXTURES / "coinbase-event-charge-created.json").read_text()))
    signature = sign_webhook(raw.encode(), world.platform.secrets.coinbase_webhook_secret)
    headers = {"Content-Type": "application/json", "X-CC-Webhook-Signature": signature}
    return Call(path="", content=raw.encode(), headers=headers)


async def _viewer_email(world: World, role: str) -> Call:
    return Call(path="", json_body={"email": world.accounts["viewer"].email})


async def _password_change(world: World, role: str) -> Call:
    # The same password again, so later sign-ins keep working.
    return Call(path="", json_body={"current_password": PASSWORD, "new_password": PASSWORD})


BUILDERS: dict[tuple[str, str], Builder] = {
    ("POST", "/v1/oauth/token"): _token_request,
    ("POST", "/v1/auth/login"): _login_request,
    ("POST", "/v1/auth/refresh"): _refresh_request,
    ("POST", "/v1/auth/signup"): _signup_request,
    ("POST", "/v1/auth/verify-email"): _fixed(json_body={"token": "not-a-real-token"}),
    ("GET", "/v1/auth/verify-email"): _fixed(params={"token": "not-a-real-token"}),
    ("POST", "/v1/auth/verify-email/resend"): _viewer_email,
    ("POST", "/v1/auth/password-reset"): _viewer_email,
    ("POST", "/v1/auth/password-reset/confirm"): _fixed(
        json_body={"token": "not-a-real-token", "new_password": PASSWORD}
    ),
    ("POST", "/v1/invitations/accept"): _fixed(json_body={"token": "not-a-real-token"}),
    ("POST", "/v1/auth/password"): _password_change,
    ("POST", "/v1/auth/totp/confirm"): _fixed(json_body={"code": "123456"}),
    ("POST", "/v1/auth/step-up"): _step_up_request,
    ("POST", "/v1/admin/identity/keys/rotate"): _rotate_request,
    ("POST", "/v1/tenants/{tenant_id}/invitations"): _invitation_request,
    ("PUT", "/v1/tenants/{tenant_id}/members/{user_id}"): _fixed(json_body={"role": "viewer"}),
    ("POST", "/v1/clients"): _fixed(json_body={"tenant": "matrix-made", "role": "tenant"}),
    ("PUT", "/v1/users/{user_id}/platform-role"): _fixed(json_body={"role": None}),
    ("POST", "/v1/orders"): _new_order_request,
    ("POST", "/v1/orders/{order_id}/payments"): _payment_request,
    ("POST", "/v1/orders/{order_id}/cancel"): _cancel_request,
    ("POST", "/v1/reconciliation/runs"): _fixed(
        json_body={"provider": "nowpayments", "day": "2026-01-01"}
    ),
    ("POST", "/v1/reconciliation/imports"): _fixed(
        content=b"provider,payment_id\n", headers={"Content-Type": "text/csv"}
    ),
    ("POST", "/v1/reconciliation/records/{record_id}/resolve"): _fixed(
        json_body={"note": "checked by hand"}
    ),
    ("POST", "/v1/payments/{payment_id}/refunds"): _approved(
        "refund",
        "/v1/payments/{payment_id}/refunds",
        "payment_id",
        {"amount": "0.0001", "reason": "matrix", "refund_address": "matrix-test-address"},
    ),
    ("POST", "/v1/refunds/{refund_id}/verify"): _approved(
        "refund", "/v1/refunds/{refund_id}/verify", "refund_id", {"verification_code": "123456"}
    ),
    ("POST", "/v1/refunds/{refund_id}/confirm"): _approved(
        "refund",
        "/v1/refunds/{refund_id}/confirm",
        "refund_id",
        {"outcome": "completed", "provider_reference": "matrix", "note": "matrix"},
    ),
    ("POST", "/v1/payments/{payment_id}/disputes"): _approved(
        "dispute", "/v1/payments/{payment_id}/disputes", "payment_id", {"reason": "matrix"}
    ),
    ("POST", "/v1/disputes/{dispute_id}/resolve"): _approved(
        "dispute",
        "/v1/disputes/{dispute_id}/resolve",
        "dispute_id",
        {"outcome": "withdrawn", "note": "matrix"},
    ),
    ("POST", "/v1/webhooks/nowpayments/payouts"): _payout_request,
    ("POST", "/v1/webhooks/nowpayments"): _nowpayments_request,
    ("POST", "/v1/webhooks/coinbase-commerce"): _coinbase_request,
}


def service_routes(platform: Platform) -> list[tuple[str, str, str]]:
    """Return (service, method, path template) for every route of every hosted app."""
    routes = []
    for host in platform.hosts:
        assert host.app is not None
        # FastAPI (0.165 here) keeps included routers unexpanded in `app.routes`. This call
        # yields their routes with the full path, which a plain loop over `app.routes` misses.
        for route in iter_route_contexts(host.app.routes):
            assert route.path is not None
            for method in sorted(route.methods or ()):
                routes.append((host.name, method, route.path))
    return routes


async def build_call(world: World, method: str, template: str, role: str) -> Call:
    key = ("GET" if method == "HEAD" else method, template)
    builder = BUILDERS.get((method, template)) or BUILDERS.get(key) or _fixed()
    call = await builder(world, role)
    call.path = call.path or template.format(**_path_values(world))
    return call


async def send(world: World, service: str, method: str, call: Call, role: str) -> httpx.Response:
    host = next(host for host in world.platform.hosts if host.name == service)
    assert host.app is not None
    # Straight into the service's app: the embedded dispatcher serves only the public prefixes,
    # and probes, metrics and docs of each app must be checked too.
    transport = httpx.ASGITransport(app=host.app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.request(
            method,
            call.path,
            json=call.json_body,
            content=call.content,
            params=call.params,
            headers={**world.auth(role), **call.headers},
        )


def test_every_route_has_a_rule(world: World) -> None:
    routes = service_routes(world.platform)
    missing = sorted(
        {
            f"{method} {path} ({service})"
            for service, method, path in routes
            if ("GET" if method == "HEAD" else method, path) not in RULES
        }
    )
    served = {("GET" if method == "HEAD" else method, path) for _, method, path in routes}

    assert {host.name for host in world.platform.hosts} == set(SERVICES)
    assert len(routes) > len(SERVICES) * 10, "route discovery found too few routes"
    assert not missing, "routes without a rule in RULES (add one): " + ", ".join(missing)
    assert not set(RULES) - served, f"rules for routes no app serves: {set(RULES) - served}"


async def test_roles_match_rules(world: World) -> None:
    mismatches = []
    for service, method, template in service_routes(world.platform):
        allowed = RULES.get(("GET" if method == "HEAD" else method, template))
        if allowed is None:
            continue  # reported by test_every_route_has_a_rule
        for role in ROLES:
            call = await build_call(world, method, template, role)
            response = await send(world, service, method, call, role)
            denied = response.status_code in (401, 403)
            if denied == (role in allowed):
                expected = "allow" if role in allowed else "deny"
                mismatches.append(
                    f"{method} {template} as {role}: expected {expected}, "
                    f"got {response.status_code} {response.text[:200]}"
                )

    assert not mismatches, "\n".join(mismatches)


async def test_other_tenant_owner_is_kept_out(world: World) -> None:
    api, http = world.platform.api_url, world.http
    owner = world.accounts["owner"]
    before = await http.get(f"{api}/v1/orders/{world.order_id}", headers=owner.auth)
    stranger = Account(email=f"stranger-{uuid.uuid4().hex[:8]}@example.test")
    response = await sign_up(http, api, stranger.email, f"other-{uuid.uuid4().hex[:8]}")
    assert response.status_code == 202, response.text
    await verify_from_mail(http, api, world.platform.mail_url, stranger.email)
    await login(http, api, stranger)

    members = await http.get(f"{api}/v1/tenants/{world.tenant_id}/members", headers=stranger.auth)
    invite = await http.post(
        f"{api}/v1/tenants/{world.tenant_id}/invitations",
        headers=stranger.auth,
        json={"email": "intruder@example.test", "role": "owner"},
    )
    order = await http.get(f"{api}/v1/orders/{world.order_id}", headers=stranger.auth)
    cancel = await http.post(f"{api}/v1/orders/{world.order_id}/cancel", headers=stranger.auth)
    create = await http.post(
        f"{api}/v1/orders",
        headers={**stranger.auth, "Idempotency-Key": str(uuid.uuid4())},
        json={"amount": "5.00", "currency": "USD", "tenant": world.tenant_id},
    )
    listed = await http.get(f"{api}/v1/orders", headers=stranger.auth)
    by_operator = await http.get(
        f"{api}/v1/orders/{world.order_id}", headers=world.auth("operator_client")
    )

    assert members.status_code == 403, members.text
    assert invite.status_code == 403, invite.text
    # Another tenant's order does not exist for this caller, which hides that it exists.
    assert order.status_code == 404, order.text
    assert cancel.status_code == 404, cancel.text
    assert create.status_code == 403, create.text
    assert listed.json()["items"] == []
    assert by_operator.status_code == 200, by_operator.text
    assert by_operator.json()["status"] == before.json()["status"]
