"""In-memory Coinbase charges; the caller holds the sandbox lock while changing them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bwai_sandbox.coinbase.models import Charge


@dataclass
class CoinbaseStore:
    # Insertion order is creation order, which the charge list relies on.
    charges: dict[str, Charge] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def add(self, charge: Charge) -> None:
        self.charges[charge.id] = charge
        self.codes[charge.code] = charge.id

    def find(self, code_or_id: str) -> Charge | None:
        charge_id = self.codes.get(code_or_id.upper(), code_or_id)
        return self.charges.get(charge_id)
