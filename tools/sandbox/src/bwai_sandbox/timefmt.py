"""Timestamp spellings the providers use."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_millis(moment: datetime) -> str:
    """Spell a time as NOWPayments does: `2024-05-14T09:12:31.402Z`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_seconds(moment: datetime) -> str:
    """Spell a time as Coinbase Commerce does: `2024-03-02T14:05:11Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
