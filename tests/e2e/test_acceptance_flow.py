"""The acceptance checklist (`bwai acceptance`) against the embedded platform, every step."""

from __future__ import annotations

import pytest
from bwai_cli import acceptance
from bwai_cli.embedded import SANDBOX_MERCHANT_EMAIL, Platform
from bwai_core.clock import SystemClock
from bwai_identity.operators import create_operator
from bwai_messaging.schemas import SchemaRegistry
from bwai_sandbox.settings import DEV_PAYOUT_TOTP_SECRET

PASSWORD = "correct horse battery staple 42"


@pytest.mark.timeout(180)
async def test_acceptance_steps_all_pass(
    embedded: Platform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator with TOTP walks order, payment, webhook, reconciliation and refund.

    The run waits for fresh TOTP time steps, so it takes up to about a minute.
    """
    identity = next(host for host in embedded.hosts if host.name == "identity")
    assert identity.ctx is not None
    assert embedded.secrets is not None
    operator = await create_operator(
        identity.ctx.pool,
        email="acceptance-operator@example.test",
        password=PASSWORD,
        role="operator",
        clock=SystemClock(),
        schemas=SchemaRegistry.default(),
    )
    monkeypatch.setenv("BWAI_OPERATOR_EMAIL", operator.email)
    monkeypatch.setenv("BWAI_OPERATOR_PASSWORD", PASSWORD)
    # The payout credentials the sandbox account has, read by payments through its secret store.
    monkeypatch.setenv("BWAI_NOWPAYMENTS_EMAIL", SANDBOX_MERCHANT_EMAIL)
    monkeypatch.setenv("BWAI_NOWPAYMENTS_PASSWORD", embedded.secrets.nowpayments_password)
    monkeypatch.setenv("BWAI_NOWPAYMENTS_PAYOUT_TOTP_SECRET", DEV_PAYOUT_TOTP_SECRET)

    code = await acceptance.run(embedded.api_url, embedded.sandbox_url)

    output = capsys.readouterr().out
    assert code == 0, output
    assert output.count("PASSED") == len(acceptance.STEPS)
    assert "FAILED" not in output
