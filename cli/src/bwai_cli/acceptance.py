"""`bwai acceptance`: the operator payments checklist of docs/acceptance/payments.md, run
automatically against a running platform and its provider sandbox.

Each step prints PASSED or FAILED with what it saw; after a failure the remaining steps are
SKIPPED, because each builds on the one before. Only public interfaces are used: the
platform's API as an operator, and the sandbox's control API standing in for the customer
and the blockchain.

The refund step needs an operator *user* with TOTP, because step-up approvals are for people:
- BWAI_OPERATOR_EMAIL and BWAI_OPERATOR_PASSWORD name an existing operator.
  BWAI_OPERATOR_TOTP_SECRET is its base32 TOTP secret, the one its authenticator app holds.
  Without the secret the run enrols TOTP, which works only for an account that has none yet.
- Without them, and with access to identity's database (the embedded platform's data
  directory, or `database_url`), the run creates a new operator like
  `bwai users create-operator` and enrols TOTP for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import httpx
import pyotp
import typer

from bwai_cli.apiclient import ApiError, check

POLL_INTERVAL_S = 0.25
POLL_LIMIT_S = 30.0
TOTP_STEP_S = 30
PAID_STATUSES = {"paid", "overpaid"}
PAYOUT_STEP = Decimal("0.000001")


@dataclass
class Operator:
    email: str
    password: str
    totp: pyotp.TOTP | None = None
    access_token: str = ""
    # TOTP time steps already used: identity accepts each step's code once.
    used_steps: set[int] = field(default_factory=set)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Journey:
    """The run's state: the operator, the URLs and the values each step passes on."""

    http: httpx.AsyncClient
    api_url: str
    sandbox_url: str
    provider: str
    operator: Operator
    payout_totp_secret: str | None
    values: dict[str, Any] = field(default_factory=dict)


Step = tuple[str, Callable[[Journey], Awaitable[str]]]


async def run(
    api_url: str,
    sandbox_url: str,
    *,
    provider: str = "nowpayments",
    data_dir: Path | None = None,
    database_url: str | None = None,
    payout_totp_secret: str | None = None,
) -> int:
    """Run every step and print each result; return 0 when all passed, 1 otherwise.

    `payout_totp_secret` is the NOWPayments account's 2FA secret; it defaults to the one in
    `data_dir`'s development secrets (the embedded sandbox's), then to the environment's. The
    run uses it only when the platform leaves a payout waiting for its code.
    """
    async with httpx.AsyncClient(timeout=60) as http:
        try:
            operator = await _operator_account(data_dir, database_url)
        except (ApiError, RuntimeError) as error:
            _report("Operator account available", False, str(error))
            return 1
        journey = Journey(
            http,
            api_url,
            sandbox_url,
            provider,
            operator,
            payout_totp_secret or _sandbox_secret(data_dir),
        )
        return await _run_steps(journey, STEPS)


async def _run_steps(journey: Journey, steps: list[Step]) -> int:
    for index, (title, step) in enumerate(steps):
        try:
            detail = await step(journey)
        except (ApiError, httpx.HTTPError, AssertionError, KeyError, TimeoutError) as error:
            _report(title, False, str(error) or type(error).__name__)
            for skipped, _ in steps[index + 1 :]:
                typer.echo(f"SKIPPED  {skipped}")
            return 1
        _report(title, True, detail)
    return 0


async def _sign_in(j: Journey) -> str:
    op = j.operator
    if op.totp is None:
        await _enrol(j)
    tokens = await _post(
        j,
        "/v1/auth/login",
        {"email": op.email, "password": op.password, "totp_code": await _fresh_code(op)},
    )
    op.access_token = tokens["access_token"]
    return f"{op.email} signed in with password and TOTP"


async def _create_order(j: Journey) -> str:
    order = await _post(
        j,
        "/v1/orders",
        {
            "amount": "49.99",
            "currency": "USD",
            "tenant": "acceptance",
            "description": "Acceptance check",
        },
        key=True,
    )
    assert order["status"] == "open", f"new order is {order['status']!r}, expected 'open'"
    j.values["order"] = order
    return f"order {order['id']}: {order['amount']} {order['currency']}"


async def _start_payment(j: Journey) -> str:
    order = j.values["order"]
    payment = await _post(
        j,
        f"/v1/orders/{order['id']}/payments",
        {"provider": j.provider, "pay_currency": "btc"},
        key=True,
    )
    j.values["payment"] = payment
    return f"payment {payment['id']}; checkout page {payment['checkout_url']}"


async def _pay_on_checkout(j: Journey) -> str:
    checkout_id = j.values["payment"]["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
    sandbox_provider = "nowpayments" if j.provider == "nowpayments" else "coinbase"
    result = check(
        await j.http.post(
            f"{j.sandbox_url}/sandbox/v1/checkouts/{sandbox_provider}/{checkout_id}/pay",
            json={"outcome": "full"},
        )
    )
    j.values["deliveries"] = result["deliveries"]
    return f"paid in full; the sandbox sends {len(result['deliveries'])} signed webhooks"


async def _webhook_settles_order(j: Journey) -> str:
    order_id = j.values["order"]["id"]
    order = await _poll(j, f"/v1/orders/{order_id}", lambda o: o["status"] in PAID_STATUSES)
    ledger = await _get(j, f"/v1/orders/{order_id}/transactions")
    postings = ledger["items"] if isinstance(ledger, dict) else ledger
    assert postings, "the order is paid but the ledger has no posting"
    j.values["postings"] = len(postings)
    j.values["payment"] = await _get(j, f"/v1/payments/{j.values['payment']['id']}")
    return f"order {order['status']}, {len(postings)} ledger posting(s)"


async def _repeated_webhook_changes_nothing(j: Journey) -> str:
    last = j.values["deliveries"][-1]
    check(await j.http.post(f"{j.sandbox_url}/sandbox/v1/deliveries/{last['id']}/resend"))
    await asyncio.sleep(1.0)  # the resent delivery's effect, if any, lands within this bound
    ledger = await _get(j, f"/v1/orders/{j.values['order']['id']}/transactions")
    postings = ledger["items"] if isinstance(ledger, dict) else ledger
    assert len(postings) == j.values["postings"], "a resent webhook changed the ledger"
    return f"webhook {last['id']} sent again; the ledger still has {len(postings)} posting(s)"


async def _reconcile_today(j: Journey) -> str:
    day = datetime.now(UTC).date().isoformat()
    run = check(
        await j.http.post(
            f"{j.api_url}/v1/reconciliation/runs",
            params={"wait": "true"},
            json={"provider": j.provider, "day": day},
            headers=j.operator.auth,
        )
    )
    assert run["status"] == "completed", f"run ended {run['status']}: {run.get('error')}"
    report = await _get(j, f"/v1/reconciliation/runs/{run['id']}?limit=1000")
    ours = j.values["payment"]["provider_payment_id"]
    records = [r for r in report["records"] if r["provider_payment_id"] == ours]
    assert records, f"the run has no record for provider payment {ours}"
    assert records[0]["outcome"] == "matched", f"our payment is {records[0]['outcome']}"
    matched = run["counts"]["matched"]
    return f"run {run['id']} for {day}: {matched} matched of {run['total']}; ours matched"


async def _refund_with_step_up(j: Journey) -> str:
    payment = j.values["payment"]
    step_up = await _post(
        j,
        "/v1/auth/step-up",
        {"code": await _fresh_code(j.operator), "action": "refund", "target": payment["id"]},
    )
    # NOWPayments payouts take at most 6 decimal places, so the amount is rounded down to them.
    amount = format(Decimal(payment["actually_paid"]).quantize(PAYOUT_STEP, ROUND_DOWN), "f")
    refund = await _post(
        j,
        f"/v1/payments/{payment['id']}/refunds",
        {"amount": amount, "reason": "acceptance check", "refund_address": "bc1qacceptance"},
        key=True,
        step_up=step_up["step_up_token"],
    )
    if refund["awaiting_verification"]:
        refund = await _verify_payout(j, refund)
    assert refund["status"] == "submitted", f"refund is {refund['status']}: {refund['last_error']}"
    j.values["refund"] = refund
    return f"refund {refund['id']} of {amount} {refund['currency']} submitted as payout"


async def _payout_completes_refund(j: Journey) -> str:
    refund = j.values["refund"]
    check(
        await j.http.post(
            f"{j.sandbox_url}/sandbox/v1/payouts/{refund['provider_reference']}/finish",
            json={"status": "FINISHED"},
        )
    )
    done = await _poll(j, f"/v1/refunds/{refund['id']}", lambda r: r["status"] == "completed")
    return f"payout FINISHED webhook moved refund {done['id']} to {done['status']}"


async def _audit_shows_refund(j: Journey) -> str:
    refund_id = j.values["refund"]["id"]
    page = await _get(j, f"/v1/audit?target_type=refund&target_id={refund_id}")
    actions = [entry["action"] for entry in page["items"]]
    assert "refund.requested" in actions, f"no refund.requested audit entry ({actions})"
    return f"audit entries for the refund: {', '.join(sorted(set(actions)))}"


STEPS: list[Step] = [
    ("Operator signs in with TOTP", _sign_in),
    ("Create an order", _create_order),
    ("Start a payment with the provider", _start_payment),
    ("Customer pays on the sandbox checkout page", _pay_on_checkout),
    ("Provider webhook settles the order and the ledger", _webhook_settles_order),
    ("A repeated webhook changes nothing", _repeated_webhook_changes_nothing),
    ("Reconciliation of today matches the payment", _reconcile_today),
    ("Refund with a TOTP step-up", _refund_with_step_up),
    ("Payout webhook completes the refund", _payout_completes_refund),
    ("Operator audit lists the refund", _audit_shows_refund),
]


async def _verify_payout(j: Journey, refund: dict[str, Any]) -> dict[str, Any]:
    """Send the provider account's 2FA code, as the operator would type it."""
    assert j.payout_totp_secret, "the payout waits for a 2FA code and no TOTP secret is known"
    step_up = await _post(
        j,
        "/v1/auth/step-up",
        {"code": await _fresh_code(j.operator), "action": "refund", "target": refund["id"]},
    )
    code = pyotp.TOTP(j.payout_totp_secret).now()
    verified: dict[str, Any] = await _post(
        j,
        f"/v1/refunds/{refund['id']}/verify",
        {"verification_code": code},
        step_up=step_up["step_up_token"],
    )
    return verified


async def _operator_account(data_dir: Path | None, database_url: str | None) -> Operator:
    email = os.environ.get("BWAI_OPERATOR_EMAIL")
    password = os.environ.get("BWAI_OPERATOR_PASSWORD")
    if email and password:
        secret = os.environ.get("BWAI_OPERATOR_TOTP_SECRET")
        return Operator(email, password, pyotp.TOTP(secret) if secret else None)
    if data_dir is None and database_url is None:
        raise RuntimeError(
            "no operator account: set BWAI_OPERATOR_EMAIL, BWAI_OPERATOR_PASSWORD and "
            "BWAI_OPERATOR_TOTP_SECRET, or give the platform's data directory or identity "
            "database URL so that one can be created"
        )
    from bwai_cli import operators  # imported here: it needs identity's database

    email = f"acceptance-{uuid.uuid4().hex[:8]}@example.test"
    password = secrets.token_urlsafe(18)
    await operators.create(email, password, "operator", database_url, data_dir or Path(".data"))
    return Operator(email, password)


async def _enrol(j: Journey) -> None:
    """Enrol TOTP with an enrolment-only sign-in, as an authenticator app would."""
    op = j.operator
    tokens = await _post(j, "/v1/auth/login", {"email": op.email, "password": op.password})
    op.access_token = tokens["access_token"]
    enrolment = check(await j.http.post(f"{j.api_url}/v1/auth/totp/enrolment", headers=op.auth))
    op.totp = pyotp.TOTP(enrolment["secret"])
    # The previous step's code confirms (identity accepts one step of drift), which leaves
    # the current step for the sign-in.
    previous = int(time.time()) // TOTP_STEP_S - 1
    op.used_steps.add(previous)
    await _post(j, "/v1/auth/totp/confirm", {"code": op.totp.at(previous * TOTP_STEP_S)})
    typer.echo(f"         operator {op.email} enrolled TOTP; secret {enrolment['secret']}")


async def _fresh_code(op: Operator) -> str:
    """Return the current TOTP code, first waiting for a time step not used before."""
    assert op.totp is not None
    # A wall-clock boundary, not an event: nothing signals the next TOTP step.
    while (step := int(time.time()) // TOTP_STEP_S) in op.used_steps:  # noqa: ASYNC110
        await asyncio.sleep(TOTP_STEP_S - time.time() % TOTP_STEP_S + 0.05)
    op.used_steps.add(step)
    return op.totp.at(step * TOTP_STEP_S)


async def _post(
    j: Journey,
    path: str,
    body: dict[str, Any],
    *,
    key: bool = False,
    step_up: str | None = None,
) -> Any:
    headers = dict(j.operator.auth) if j.operator.access_token else {}
    if key:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    if step_up is not None:
        headers["X-Step-Up-Token"] = step_up
    return check(await j.http.post(f"{j.api_url}{path}", json=body, headers=headers))


async def _get(j: Journey, path: str) -> Any:
    return check(await j.http.get(f"{j.api_url}{path}", headers=j.operator.auth))


async def _poll(j: Journey, path: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Read `path` until `done` holds; raise TimeoutError after POLL_LIMIT_S seconds."""
    async with asyncio.timeout(POLL_LIMIT_S):
        while True:
            body: dict[str, Any] = await _get(j, path)
            if done(body):
                return body
            await asyncio.sleep(POLL_INTERVAL_S)


def _sandbox_secret(data_dir: Path | None) -> str | None:
    """Find the sandbox account's payout 2FA secret: the embedded platform's, else the env's."""
    if data_dir is not None:
        stored = data_dir / "dev-secrets.json"
        if stored.exists():
            secret: str | None = json.loads(stored.read_text()).get(
                "nowpayments_payout_totp_secret"
            )
            return secret
    return os.environ.get("BWAI_NOWPAYMENTS_PAYOUT_TOTP_SECRET")


def _report(title: str, passed: bool, detail: str) -> None:
    typer.echo(f"{'PASSED' if passed else 'FAILED'}   {title}: {detail}")
