"""MailcowClient and provisioning against a fake Mailcow served over HTTP on loopback."""

from __future__ import annotations

import logging
import socket

import pytest
import structlog
from bwai_mail import (
    MailcowAuthFailed,
    MailcowObjectExists,
    MailcowObjectNotFound,
    MailcowUnavailable,
    MailcowValidationError,
)
from bwai_mail.mailcow import (
    AliasSpec,
    DomainSpec,
    MailboxSpec,
    MailcowClient,
    MailcowSettings,
    ensure_alias,
    ensure_domain,
    ensure_mailbox,
)
from mailcow_fake import API_KEY, READ_ONLY_KEY, FakeMailcow
from pydantic import SecretStr, ValidationError

DOMAIN = DomainSpec(domain="shop.example", description="Shop", max_mailboxes=5)
MAILBOX_PASSWORD = "Correct-Horse-42"
MAILBOX = MailboxSpec(
    local_part="info", domain="shop.example", name="Shop Info", password=SecretStr(MAILBOX_PASSWORD)
)
ALIAS = AliasSpec(address="sales@shop.example", goto=("info@shop.example",))


def _client(fake: FakeMailcow, key: str = API_KEY, attempts: int = 3) -> MailcowClient:
    return MailcowClient(fake.url, lambda: key, max_attempts=attempts, retry_backoff_s=0)


async def test_ensure_domain_creates_then_unchanged(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    first = await ensure_domain(mailcow, DOMAIN)
    second = await ensure_domain(mailcow, DOMAIN)

    assert first == "created"
    assert second == "unchanged"
    assert fake_mailcow.writes("edit/domain") == []
    stored = await mailcow.get_domain("shop.example")
    assert stored is not None
    assert stored.max_mailboxes == 5
    assert stored.max_mailbox_quota_mib == 10240


async def test_ensure_domain_edits_only_differences(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    await ensure_domain(mailcow, DOMAIN)
    changed = DomainSpec(domain="shop.example", description="Shop", max_mailboxes=20, active=False)

    outcome = await ensure_domain(mailcow, changed)

    assert outcome == "updated"
    [edit] = fake_mailcow.writes("edit/domain")
    assert edit == {"items": ["shop.example"], "attr": {"mailboxes": 20, "active": 0}}
    stored = await mailcow.get_domain("shop.example")
    assert stored is not None
    assert stored.max_mailboxes == 20
    assert stored.active is False


async def test_add_domain_warning_is_returned_and_logged(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    fake_mailcow.warn_on_domain_add = True

    with structlog.testing.capture_logs() as logs:
        result = await mailcow.add_domain(DOMAIN)

    assert result.warnings == (("domain_added_sogo_failed",),)
    warnings = [e for e in logs if e["event"] == "mailcow.write.warning"]
    assert warnings[0]["msg"] == ["domain_added_sogo_failed"]


async def test_add_domain_twice_raises_object_exists(mailcow: MailcowClient) -> None:
    await mailcow.add_domain(DOMAIN)

    with pytest.raises(MailcowObjectExists) as raised:
        await mailcow.add_domain(DOMAIN)

    assert raised.value.msg == ["domain_exists", "shop.example"]


async def test_ensure_mailbox_redelivery_keeps_password(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    await ensure_domain(mailcow, DOMAIN)
    await ensure_mailbox(mailcow, MAILBOX)
    redelivered = MailboxSpec(
        local_part="info", domain="shop.example", name="Shop Info", password=SecretStr("Other-99x")
    )

    outcome = await ensure_mailbox(mailcow, redelivered)

    assert outcome == "unchanged"
    assert fake_mailcow.passwords["info@shop.example"] == MAILBOX_PASSWORD
    assert fake_mailcow.writes("edit/mailbox") == []


async def test_ensure_mailbox_updates_quota_and_name(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    await ensure_domain(mailcow, DOMAIN)
    await ensure_mailbox(mailcow, MAILBOX)
    bigger = MailboxSpec(
        local_part="info",
        domain="shop.example",
        name="Info",
        password=MAILBOX.password,
        quota_mib=4096,
    )

    outcome = await ensure_mailbox(mailcow, bigger)

    assert outcome == "updated"
    [edit] = fake_mailcow.writes("edit/mailbox")
    assert edit["attr"] == {"name": "Info", "quota": 4096}
    stored = await mailcow.get_mailbox("info@shop.example")
    assert stored is not None
    assert stored.quota_mib == 4096
    assert [m.address for m in await mailcow.list_mailboxes("shop.example")] == [
        "info@shop.example"
    ]


async def test_weak_password_raises_validation_error(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    await ensure_domain(mailcow, DOMAIN)
    weak = MailboxSpec(local_part="x", domain="shop.example", name="X", password=SecretStr("short"))

    with pytest.raises(MailcowValidationError) as raised:
        await ensure_mailbox(mailcow, weak)

    assert raised.value.msg == ["password_complexity"]
    assert fake_mailcow.mailboxes == {}


async def test_password_absent_from_errors_and_logs(
    mailcow: MailcowClient, caplog: pytest.LogCaptureFixture
) -> None:
    await ensure_domain(mailcow, DOMAIN)
    echoed = "echo-Secret-Pw-77"
    spec = MailboxSpec(local_part="y", domain="shop.example", name="Y", password=SecretStr(echoed))
    caplog.set_level(logging.DEBUG)

    with structlog.testing.capture_logs() as logs, pytest.raises(MailcowValidationError) as raised:
        await ensure_mailbox(mailcow, spec)
    await ensure_mailbox(mailcow, MAILBOX)

    assert raised.value.msg == ["password_invalid", "***"]
    assert echoed not in str(raised.value)
    assert echoed not in repr(raised.value.to_problem())
    assert echoed not in repr(spec)
    assert MAILBOX_PASSWORD not in repr(logs)
    assert MAILBOX_PASSWORD not in caplog.text
    assert echoed not in caplog.text


async def test_ensure_alias_converges(mailcow: MailcowClient, fake_mailcow: FakeMailcow) -> None:
    await ensure_domain(mailcow, DOMAIN)
    await ensure_mailbox(mailcow, MAILBOX)

    created = await ensure_alias(mailcow, ALIAS)
    unchanged = await ensure_alias(mailcow, ALIAS)
    retargeted = AliasSpec(address=ALIAS.address, goto=("info@shop.example", "ops@shop.example"))
    updated = await ensure_alias(mailcow, retargeted)

    assert (created, unchanged, updated) == ("created", "unchanged", "updated")
    alias = await mailcow.find_alias("sales@shop.example")
    assert alias is not None
    assert alias.goto == ("info@shop.example", "ops@shop.example")
    assert await mailcow.get_alias(alias.id) == alias


async def test_alias_on_mailbox_address_is_not_found(mailcow: MailcowClient) -> None:
    await ensure_domain(mailcow, DOMAIN)
    await ensure_mailbox(mailcow, MAILBOX)
    clash = AliasSpec(address="info@shop.example", goto=("ops@shop.example",))

    with pytest.raises(MailcowObjectNotFound):
        await ensure_alias(mailcow, clash)


async def test_delete_removes_objects(mailcow: MailcowClient, fake_mailcow: FakeMailcow) -> None:
    await ensure_domain(mailcow, DOMAIN)
    await ensure_mailbox(mailcow, MAILBOX)
    await ensure_alias(mailcow, ALIAS)
    alias = await mailcow.find_alias(ALIAS.address)
    assert alias is not None

    await mailcow.delete_alias(alias.id)
    await mailcow.delete_mailbox(MAILBOX.address)
    await mailcow.delete_domain(DOMAIN.domain)

    assert await mailcow.find_alias(ALIAS.address) is None
    assert await mailcow.get_mailbox(MAILBOX.address) is None
    assert await mailcow.get_domain(DOMAIN.domain) is None


async def test_get_dkim_after_domain_added(mailcow: MailcowClient) -> None:
    await ensure_domain(mailcow, DOMAIN)

    key = await mailcow.get_dkim("shop.example")
    missing = await mailcow.get_dkim("other.example")

    assert key is not None
    assert key.selector == "dkim"
    assert key.txt.startswith("v=DKIM1;")
    assert key.length == 2048
    assert missing is None


async def test_wrong_key_401_not_retried_and_circuit_opens(fake_mailcow: FakeMailcow) -> None:
    async with _client(fake_mailcow, key="wrong-key") as client:
        with structlog.testing.capture_logs() as logs, pytest.raises(MailcowAuthFailed) as first:
            await client.add_domain(DOMAIN)
        with pytest.raises(MailcowAuthFailed) as second:
            await client.get_domain("shop.example")

    assert len(fake_mailcow.requests) == 1
    assert "authentication failed" in first.value.detail
    assert "Request not sent" in second.value.detail
    assert client.auth_circuit_open
    assert "wrong-key" not in repr(logs)
    assert [e["log_level"] for e in logs if e["event"] == "mailcow.auth.rejected"] == ["error"]


async def test_read_only_key_403_not_retried(fake_mailcow: FakeMailcow) -> None:
    async with _client(fake_mailcow, key=READ_ONLY_KEY) as client:
        with pytest.raises(MailcowAuthFailed):
            await client.add_domain(DOMAIN)

    assert len(fake_mailcow.requests) == 1
    assert fake_mailcow.domains == {}


async def test_closed_circuit_allows_requests_again(fake_mailcow: FakeMailcow) -> None:
    keys = ["wrong-key"]
    async with MailcowClient(fake_mailcow.url, lambda: keys[0], retry_backoff_s=0) as client:
        with pytest.raises(MailcowAuthFailed):
            await client.get_domain("shop.example")
        keys[0] = API_KEY

        client.close_auth_circuit()
        found = await client.get_domain("shop.example")

    assert found is None
    assert len(fake_mailcow.requests) == 2


async def test_5xx_retried_then_succeeds(fake_mailcow: FakeMailcow) -> None:
    fake_mailcow.fail_next = [503, 502]

    async with _client(fake_mailcow, attempts=3) as client:
        outcome = await ensure_domain(client, DOMAIN)

    assert outcome == "created"
    assert len(fake_mailcow.writes("add/domain")) == 3


async def test_5xx_on_every_attempt_raises_unavailable(fake_mailcow: FakeMailcow) -> None:
    fake_mailcow.fail_next = [503, 503, 503, 503]

    async with _client(fake_mailcow, attempts=3) as client:
        with pytest.raises(MailcowUnavailable):
            await client.add_domain(DOMAIN)

    assert len(fake_mailcow.requests) == 3
    assert fake_mailcow.domains == {}


async def test_refused_connection_raises_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async with MailcowClient(
        f"http://127.0.0.1:{port}", lambda: API_KEY, max_attempts=2, retry_backoff_s=0
    ) as client:
        with pytest.raises(MailcowUnavailable):
            await client.get_domain("shop.example")


async def test_invalid_name_rejected_before_request(
    mailcow: MailcowClient, fake_mailcow: FakeMailcow
) -> None:
    with pytest.raises(ValueError, match="Invalid Mailcow object name"):
        await mailcow.get_mailbox("../all")

    assert fake_mailcow.requests == []


def test_settings_require_https_for_remote_host() -> None:
    with pytest.raises(ValidationError, match="https"):
        MailcowSettings(base_url="http://mail.example.com", api_key=SecretStr("k"))


async def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BWAI_MAILCOW_BASE_URL", "https://mail.example.com/")
    monkeypatch.setenv("BWAI_MAILCOW_API_KEY", "env-key")

    settings = MailcowSettings()  # type: ignore[call-arg]
    client = MailcowClient.from_settings(settings)
    await client.aclose()

    assert settings.base_url == "https://mail.example.com"
    assert "env-key" not in repr(settings)
    assert client.auth_circuit_open is False
