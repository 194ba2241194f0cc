"""The payment state machine without I/O: every provider status, ordering and amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bwai_payments.payments.settlement import (
    Deposit,
    Incoming,
    PaymentSummary,
    PaymentTotals,
    advance_deposit,
    order_status,
    summarise_payment,
)
from bwai_payments.payments.state_machine import (
    PaymentStatus,
    UnknownProviderStatus,
    deposit_status,
)

S = PaymentStatus
D = Decimal


@pytest.mark.parametrize(
    ("status", "rank", "ours"),
    [
        ("waiting", 0, S.PENDING),
        ("confirming", 1, S.CONFIRMING),
        ("confirmed", 2, S.CONFIRMING),
        ("sending", 3, S.CONFIRMING),
        ("expired", 4, S.EXPIRED),
        ("failed", 4, S.FAILED),
        ("partially_paid", 5, S.PARTIALLY_PAID),
        ("finished", 6, S.PAID),
        ("refunded", 7, S.REFUNDED),
    ],
)
def test_nowpayments_table(status: str, rank: int, ours: PaymentStatus) -> None:
    mapped = deposit_status(
        "nowpayments",
        status,
        None,
        coinbase_paid_at="completed",
        actually_paid=D(0),
        amount_due=None,
    )

    assert mapped.rank == rank
    assert mapped.status == ours


@pytest.mark.parametrize(
    ("status", "context", "paid_at", "paid", "ours", "late"),
    [
        ("NEW", None, "completed", "0", S.PENDING, False),
        ("SIGNED", None, "completed", "0", S.PENDING, False),
        ("PENDING", None, "completed", "1", S.CONFIRMING, False),
        ("PENDING", None, "pending", "1", S.PAID, False),
        ("COMPLETED", None, "completed", "1", S.PAID, False),
        ("EXPIRED", None, "completed", "0", S.EXPIRED, False),
        ("CANCELED", None, "completed", "0", S.CANCELLED, False),
        ("FAILED", None, "completed", "0", S.FAILED, False),
        ("UNRESOLVED", "UNDERPAID", "completed", "0.5", S.PARTIALLY_PAID, False),
        ("UNRESOLVED", "OVERPAID", "completed", "2", S.PAID, False),
        ("UNRESOLVED", "DELAYED", "completed", "1", S.PAID, True),
        ("UNRESOLVED", "DELAYED", "completed", "0.5", S.PARTIALLY_PAID, True),
        ("UNRESOLVED", "MULTIPLE", "completed", "1.5", S.PAID, False),
        ("UNRESOLVED", "OTHER", "completed", "1", S.UNRESOLVED, False),
        ("RESOLVED", None, "completed", "1", S.PAID, False),
        ("REFUND PENDING", None, "completed", "1", S.REFUND_PENDING, False),
        ("REFUNDED", None, "completed", "1", S.REFUNDED, False),
    ],
)
def test_coinbase_table(
    status: str, context: str | None, paid_at: str, paid: str, ours: PaymentStatus, late: bool
) -> None:
    mapped = deposit_status(
        "coinbase_commerce",
        status,
        context,
        coinbase_paid_at=paid_at,  # type: ignore[arg-type]
        actually_paid=D(paid),
        amount_due=D(1),
    )

    assert mapped.status == ours
    assert mapped.late is late


def test_unknown_status_raises() -> None:
    with pytest.raises(UnknownProviderStatus):
        deposit_status(
            "nowpayments",
            "wrong_asset",
            None,
            coinbase_paid_at="completed",
            actually_paid=D(0),
            amount_due=None,
        )


def np(
    status: str, paid: str = "0", payment_id: str = "5001", parent: str | None = None
) -> Incoming:
    return Incoming("nowpayments", payment_id, parent, status, None, "btc", D("0.001"), D(paid))


def run(events: list[Incoming]) -> tuple[Deposit | None, Decimal]:
    deposit: Deposit | None = None
    posted = D(0)
    for event in events:
        change = advance_deposit(deposit, event, coinbase_paid_at="completed")
        deposit = change.after
        posted += change.paid_delta
    return deposit, posted


def test_happy_path_posts_once() -> None:
    deposit, posted = run(
        [
            np("waiting"),
            np("confirming", "0.001"),
            np("confirmed", "0.001"),
            np("sending", "0.001"),
            np("finished", "0.001"),
        ]
    )

    assert deposit is not None
    assert deposit.status == S.PAID
    assert posted == D("0.001")


def test_out_of_order_never_moves_backwards() -> None:
    deposit, posted = run([np("finished", "0.001"), np("confirming", "0.001"), np("waiting")])

    assert deposit is not None
    assert deposit.provider_status == "finished"
    assert posted == D("0.001")


def test_duplicates_change_nothing() -> None:
    deposit, posted = run([np("confirming", "0.001")] * 5)

    assert deposit is not None
    assert deposit.status == S.CONFIRMING
    assert posted == D("0.001")


def test_late_failed_after_finished_is_ignored() -> None:
    deposit, _ = run([np("finished", "0.001"), np("failed", "0")])

    assert deposit is not None
    assert deposit.status == S.PAID


def test_money_after_expiry_moves_forward() -> None:
    deposit, posted = run([np("expired"), np("partially_paid", "0.0004")])

    assert deposit is not None
    assert deposit.status == S.PARTIALLY_PAID
    assert posted == D("0.0004")


def test_growing_amount_at_same_status_posts_the_difference() -> None:
    _, posted = run(
        [np("confirming", "0.0004"), np("confirming", "0.0009"), np("confirming", "0.0004")]
    )

    assert posted == D("0.0009")


def summary(**overrides: object) -> PaymentSummary:
    fields: dict[str, object] = dict(
        status=S.PENDING,
        status_rank=0,
        provider_status=None,
        provider_payment_id=None,
        pay_currency="btc",
        amount_due=None,
        actually_paid=D(0),
        outcome=None,
        late=False,
        is_active=True,
    )
    fields.update(overrides)
    return PaymentSummary(**fields)  # type: ignore[arg-type]


def test_repeated_deposit_adds_to_total_and_marks_overpaid() -> None:
    first, _ = run([np("finished", "0.001")])
    assert first is not None
    change = advance_deposit(
        None, np("finished", "0.0005", "5002", parent="5001"), coinbase_paid_at="completed"
    )

    after = summarise_payment(summary(amount_due=D("0.001")), [first], change, "paid")

    assert after.actually_paid == D("0.0015")
    assert after.outcome == "overpaid"
    assert after.status == S.PAID
    assert after.is_active is False


def test_old_deposit_failing_keeps_checkout_paid() -> None:
    paid, _ = run([np("finished", "0.001", "5002")])
    assert paid is not None
    change = advance_deposit(None, np("failed", "0", "5001"), coinbase_paid_at="completed")

    after = summarise_payment(summary(), [paid], change, "open")

    assert after.status == S.PAID


def test_underpayment_is_recorded_with_amount() -> None:
    change = advance_deposit(None, np("partially_paid", "0.0004"), coinbase_paid_at="completed")

    after = summarise_payment(summary(), [], change, "open")

    assert after.status == S.PARTIALLY_PAID
    assert after.actually_paid == D("0.0004")
    assert after.amount_due == D("0.001")
    assert after.outcome == "underpaid"


def test_payment_after_expiry_is_late() -> None:
    expired, _ = run([np("expired")])
    change = advance_deposit(expired, np("finished", "0.001"), coinbase_paid_at="completed")

    after = summarise_payment(summary(status=S.EXPIRED, is_active=False), [], change, "open")

    assert after.late is True
    assert after.status == S.PAID
    assert after.is_active is False


def test_payment_on_cancelled_order_is_late() -> None:
    change = advance_deposit(None, np("finished", "0.001"), coinbase_paid_at="completed")

    after = summarise_payment(summary(), [], change, "cancelled")

    assert after.late is True


@pytest.mark.parametrize(
    ("current", "payments", "expected"),
    [
        ("open", [], "open"),
        ("open", [PaymentTotals("confirming", None, D(0))], "open"),
        ("open", [PaymentTotals("partially_paid", "underpaid", D(1))], "partially_paid"),
        ("open", [PaymentTotals("paid", "exact", D(1))], "paid"),
        ("open", [PaymentTotals("paid", "overpaid", D(2))], "overpaid"),
        (
            "partially_paid",
            [
                PaymentTotals("partially_paid", "underpaid", D(1)),
                PaymentTotals("paid", "exact", D(1)),
            ],
            "overpaid",
        ),
        (
            "open",
            [PaymentTotals("expired", None, D(0)), PaymentTotals("paid", "exact", D(1))],
            "paid",
        ),
        ("cancelled", [PaymentTotals("paid", "exact", D(1))], "cancelled"),
    ],
)
def test_order_status(current: str, payments: list[PaymentTotals], expected: str) -> None:
    assert order_status(current, payments) == expected
