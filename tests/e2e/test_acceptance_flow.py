"""The acceptance checklist (`bwai acceptance`) against the embedded platform, every step."""

from __future__ import annotations

import pytest
from bwai_cli import acceptance
from bwai_cli.embedded import Platform
from bwai_core.clock import SystemClock
from bwai_identity.operators import create_operator
from bwai_messaging.schemas import SchemaRegistry

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

    code = await acceptance.run(
        embedded.api_url,
        embedded.sandbox_url,
        payout_totp_secret=embedded.secrets.nowpayments_payout_totp_secret,
    )

    output = capsys.readouterr().out
    assert code == 0, output
    assert output.count("PASSED") == len(acceptance.STEPS)
    assert "FAILED" not in output
