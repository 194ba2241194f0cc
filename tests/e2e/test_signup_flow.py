"""Sign-up to first order, as a new user does it: sign up, read the verification email in the
mail sink, verify, sign in, enrol TOTP, and create an order on payments with the token.

Runs on the embedded platform and on separate processes with RabbitMQ. Both platforms here
require TOTP at sign-in for tenant owners too, so the flow goes through the enrolment-only token
that a first sign-in of such a role returns.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from bwai_cli.servers import make_server, wait_started
from bwai_mailsink import MailSink, create_app

from tests.conftest import FreshDatabase
from tests.e2e.accounts import (
    Account,
    enrol_totp,
    link_in,
    login,
    login_with_totp,
    sign_up,
    verify_from_mail,
    wait_for_mail,
)
from tests.e2e.conftest import drop_databases, start_platform
from tests.e2e.distributed import DistributedStack, start_stack
from tests.e2e.flow import create_order, free_port

TOTP_ROLES = "operator,admin,owner"


def _small_pools(patch: pytest.MonkeyPatch) -> None:
    # The test database server is shared with other suites; these flows need few connections.
    patch.setenv("BWAI_DATABASE_POOL_MIN", "1")
    patch.setenv("BWAI_DATABASE_POOL_MAX", "4")


@dataclass(frozen=True)
class Urls:
    identity: str
    payments: str
    mail: str


@pytest.fixture(scope="module")
async def embedded_urls(
    tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str
) -> AsyncIterator[Urls]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BWAI_TOTP_REQUIRED_ROLES", TOTP_ROLES)
        _small_pools(patch)
        platform = await start_platform(tmp_path_factory.mktemp("signup"), pg_admin_dsn)
    yield Urls(platform.api_url, platform.api_url, platform.mail_url)
    await platform.stop()
    await drop_databases(pg_admin_dsn, platform.config.database_prefix)


@pytest.fixture(scope="module")
async def mail_sink() -> AsyncIterator[tuple[MailSink, str]]:
    """A mail sink in the test process: SMTP on a free port, its web API over HTTP."""
    sink = MailSink("127.0.0.1", 0)
    await sink.start()
    port = free_port()
    server = make_server(create_app(sink), "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    await wait_started(server, task)
    yield sink, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    await sink.stop()


@pytest.fixture(scope="module")
async def distributed_urls(
    fresh_database: FreshDatabase,
    amqp_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    mail_sink: tuple[MailSink, str],
) -> AsyncIterator[Urls]:
    sink, mail_url = mail_sink
    # The children inherit the test's environment, so identity sends to this sink.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BWAI_SMTP_HOST", "127.0.0.1")
        patch.setenv("BWAI_SMTP_PORT", str(sink.smtp_port))
        patch.setenv("BWAI_TOTP_REQUIRED_ROLES", TOTP_ROLES)
        _small_pools(patch)
        stack: DistributedStack = await start_stack(
            fresh_database, amqp_url, tmp_path_factory.mktemp("signup-distributed"), replicas=1
        )
    yield Urls(stack.identity.url, stack.payments[0].url, mail_url)
    stack.stop()
    await stack.delete_broker_objects()


async def sign_up_to_order(http: httpx.AsyncClient, urls: Urls) -> tuple[Account, dict[str, str]]:
    """Walk the whole flow for a new user and tenant; return the account and its order."""
    account = Account(email=f"owner-{uuid.uuid4().hex[:8]}@example.test")
    tenant = f"shop-{uuid.uuid4().hex[:8]}"

    response = await sign_up(http, urls.identity, account.email, tenant)
    assert response.status_code == 202, response.text
    assert response.json()["verification_sent"] is True

    await verify_from_mail(http, urls.identity, urls.mail, account.email)

    # The owner role needs TOTP here: the first sign-in only allows enrolling it.
    first = await login(http, urls.identity, account)
    assert first["totp_enrolment_required"] is True
    assert first["roles"] == []
    rejected = await http.post(
        f"{urls.payments}/v1/orders",
        headers={**account.auth, "Idempotency-Key": str(uuid.uuid4())},
        json={"amount": "10.00", "currency": "USD"},
    )
    assert rejected.status_code == 403, rejected.text

    await enrol_totp(http, urls.identity, account)
    tokens = await login_with_totp(http, urls.identity, account)
    assert tokens["roles"] == ["owner"]
    assert tokens["totp_enrolment_required"] is False
    me = await http.get(f"{urls.identity}/v1/auth/me", headers=account.auth)
    assert me.status_code == 200, me.text
    assert {"otp", "mfa"} <= set(me.json()["amr"])

    order = await create_order(http, urls.payments, account.auth, amount="25.00")
    assert order["tenant_id"] == tokens["tenant_id"]
    return account, order


async def test_signup_to_order_embedded(embedded_urls: Urls, http: httpx.AsyncClient) -> None:
    _, order = await sign_up_to_order(http, embedded_urls)

    assert order["status"] == "open"


@pytest.mark.rabbitmq
async def test_signup_to_order_distributed(distributed_urls: Urls, http: httpx.AsyncClient) -> None:
    _, order = await sign_up_to_order(http, distributed_urls)

    assert order["status"] == "open"


async def test_verification_link_points_at_api(
    embedded_urls: Urls, http: httpx.AsyncClient
) -> None:
    email = f"link-{uuid.uuid4().hex[:8]}@example.test"
    response = await sign_up(http, embedded_urls.identity, email, f"link-{uuid.uuid4().hex[:8]}")
    assert response.status_code == 202, response.text

    message = await wait_for_mail(http, embedded_urls.mail, email, "Verify your email")
    link = link_in(message)
    opened = await http.get(link)

    assert link.startswith(f"{embedded_urls.identity}/v1/auth/verify-email?token=")

    assert opened.status_code == 200, opened.text
    assert "verified" in opened.text
    assert message["html"] is not None


async def test_unverified_login_rejected(embedded_urls: Urls, http: httpx.AsyncClient) -> None:
    account = Account(email=f"early-{uuid.uuid4().hex[:8]}@example.test")
    response = await sign_up(
        http, embedded_urls.identity, account.email, f"early-{uuid.uuid4().hex[:8]}"
    )
    assert response.status_code == 202, response.text

    rejected = await http.post(
        f"{embedded_urls.identity}/v1/auth/login",
        json={"email": account.email, "password": account.password},
    )

    assert rejected.status_code == 403, rejected.text
    problem = rejected.json()
    assert problem["type"].endswith("/email-not-verified")
    assert "open the link we sent" in problem["detail"]
    assert "/v1/auth/verify-email/resend" in problem["detail"]
    assert "access_token" not in problem


async def test_unverified_login_wrong_password(
    embedded_urls: Urls, http: httpx.AsyncClient
) -> None:
    email = f"guess-{uuid.uuid4().hex[:8]}@example.test"
    response = await sign_up(http, embedded_urls.identity, email, f"guess-{uuid.uuid4().hex[:8]}")
    assert response.status_code == 202, response.text

    rejected = await http.post(
        f"{embedded_urls.identity}/v1/auth/login",
        json={"email": email, "password": "not the password at all"},
    )

    # Without the right password the answer must not reveal that the address is unverified.
    assert rejected.status_code == 401, rejected.text
    assert rejected.json()["type"].endswith("/invalid-credentials")


async def test_tenant_token_cannot_read_other_tenant_order(
    embedded_urls: Urls, http: httpx.AsyncClient
) -> None:
    first, order = await sign_up_to_order(http, embedded_urls)
    second, _ = await sign_up_to_order(http, embedded_urls)
    order_url = f"{embedded_urls.payments}/v1/orders/{order['id']}"

    own = await http.get(order_url, headers=first.auth)
    other = await http.get(order_url, headers=second.auth)
    listed = await http.get(f"{embedded_urls.payments}/v1/orders", headers=second.auth)

    assert own.status_code == 200, own.text
    # Another tenant's order does not exist for this token, so even its existence stays hidden.
    assert other.status_code == 404, other.text
    assert listed.status_code == 200, listed.text
    assert order["id"] not in {item["id"] for item in listed.json()["items"]}
