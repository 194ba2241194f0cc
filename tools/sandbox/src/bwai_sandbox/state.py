"""Everything the sandbox remembers, in memory, behind one asyncio lock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bwai_sandbox.coinbase.store import CoinbaseStore
from bwai_sandbox.delivery import Delivery
from bwai_sandbox.faults import Fault, FaultMode
from bwai_sandbox.models import Provider
from bwai_sandbox.nowpayments.store import NowPaymentsStore
from bwai_sandbox.payouts.models import PayoutStore


@dataclass(slots=True)
class RequestRecord:
    """One request received on a provider API, for tests that count provider calls."""

    id: int
    provider: Provider
    method: str
    path: str
    query: str
    received_at: datetime
    # None until the response starts.
    status_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider.value,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "received_at": self.received_at.isoformat(),
            "status_code": self.status_code,
        }


@dataclass
class SandboxState:
    """Provider records, the request log, injected faults and webhook deliveries.

    Handlers take `lock` around every change that spans more than one record, so concurrent
    requests never see a half-made checkout or payment.
    """

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    nowpayments: NowPaymentsStore = field(default_factory=NowPaymentsStore)
    coinbase: CoinbaseStore = field(default_factory=CoinbaseStore)
    payouts: PayoutStore = field(default_factory=PayoutStore)
    requests: list[RequestRecord] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    _next_id: int = 0

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def record_request(
        self, provider: Provider, method: str, path: str, query: str, at: datetime
    ) -> RequestRecord:
        record = RequestRecord(self.next_id(), provider, method, path, query, at)
        self.requests.append(record)
        return record

    def add_fault(
        self, provider: Provider, mode: FaultMode, count: int, hang_seconds: float
    ) -> Fault:
        fault = Fault(self.next_id(), provider, mode, count, hang_seconds)
        self.faults.append(fault)
        return fault

    def take_fault(self, provider: Provider) -> Fault | None:
        """Use up one hit of the oldest fault armed for the provider, if any."""
        for fault in self.faults:
            if fault.provider is provider and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    def reset(self) -> None:
        self.nowpayments = NowPaymentsStore()
        self.coinbase = CoinbaseStore()
        self.payouts = PayoutStore()
        self.requests.clear()
        self.faults.clear()
        self.deliveries.clear()
