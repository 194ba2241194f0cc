"""Payout batches and their withdrawals, as the sandbox stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bwai_sandbox.timefmt import iso_millis

# NOWPayments prints payout statuses in upper case; CREATING waits for the verification code.
CREATING = "CREATING"
PROCESSING = "PROCESSING"
FINAL_STATUSES = frozenset({"FINISHED", "FAILED", "REJECTED"})


@dataclass(slots=True)
class Withdrawal:
    id: str
    batch_withdrawal_id: str
    address: str
    currency: str
    amount: Decimal
    created_at: datetime
    ipn_callback_url: str | None = None
    extra_id: str | None = None
    unique_external_id: str | None = None
    payout_description: str | None = None
    status: str = CREATING
    error: str | None = None
    hash: str | None = None
    requested_at: datetime | None = None
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the withdrawal as the payout API and its IPNs show it, the amount as a string."""
        return {
            "id": self.id,
            "batch_withdrawal_id": self.batch_withdrawal_id,
            "status": self.status,
            "error": self.error,
            "currency": self.currency,
            "amount": format(self.amount, "f"),
            "address": self.address,
            "extra_id": self.extra_id,
            "hash": self.hash,
            "ipn_callback_url": self.ipn_callback_url,
            "payout_description": self.payout_description,
            "unique_external_id": self.unique_external_id,
            "created_at": iso_millis(self.created_at),
            "requested_at": iso_millis(self.requested_at) if self.requested_at else None,
            "updated_at": iso_millis(self.updated_at) if self.updated_at else None,
        }


@dataclass(slots=True)
class PayoutBatch:
    id: str
    created_at: datetime
    ipn_callback_url: str | None
    withdrawals: list[Withdrawal] = field(default_factory=list)
    verified: bool = False
    # Wrong verification codes so far; NOWPayments allows ten attempts.
    failed_attempts: int = 0


@dataclass
class PayoutStore:
    batches: dict[str, PayoutBatch] = field(default_factory=dict)
    # Ids count up from a large start, like NOWPayments' numeric ids.
    next_id: int = 5_000_000_000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)
