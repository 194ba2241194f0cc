"""Our CSV export format for provider settlement records, one row per provider payment.

Header (exactly these columns, in any order): provider, provider_payment_id, status,
pay_currency, actually_paid, outcome_amount, outcome_currency, updated_at. Amounts are plain
decimal strings (empty for none); updated_at is ISO 8601 with a UTC offset or Z.
docs/payments/reconciliation.md describes the format with an example.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from bwai_payments.reconciliation.errors import ImportInvalid
from bwai_payments.reconciliation.models import PROVIDERS, ProviderRecord

COLUMNS = (
    "provider",
    "provider_payment_id",
    "status",
    "pay_currency",
    "actually_paid",
    "outcome_amount",
    "outcome_currency",
    "updated_at",
)
# Plain decimal notation only: no sign, exponent or thousands separator.
_AMOUNT = re.compile(r"^\d{1,20}(\.\d{1,18})?$")
MAX_ROWS = 2_000_000


def parse_csv(text: str) -> list[ProviderRecord]:
    """Parse an export; raise ImportInvalid naming the line and column of the first problem.

    Line numbers count the header as line 1. A provider payment listed twice is an error.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    _check_header(reader.fieldnames)
    records: list[ProviderRecord] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(value is None for value in row.values()):
                raise _invalid(line, None, f"expected {len(COLUMNS)} fields")
            record = _record(row, line)
            key = (record.provider, record.provider_payment_id)
            if key in seen:
                raise _invalid(line, "provider_payment_id", f"repeats line {seen[key]}")
            seen[key] = line
            records.append(record)
            if len(records) > MAX_ROWS:
                raise _invalid(line, None, f"an import holds at most {MAX_ROWS} rows")
    except csv.Error as exc:
        raise _invalid(reader.line_num, None, f"not valid CSV: {exc}") from exc
    return records


def _check_header(fieldnames: Sequence[str] | None) -> None:
    if fieldnames is None:
        raise _invalid(1, None, "the file is empty; the first line must be the header")
    names = [name.strip() for name in fieldnames]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown or len(names) != len(set(names)):
        raise _invalid(
            1,
            None,
            f"the header must name the columns {', '.join(COLUMNS)}"
            f" (missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})",
        )


def _record(row: dict[str, str], line: int) -> ProviderRecord:
    values = {key.strip(): (value or "").strip() for key, value in row.items()}
    provider = values["provider"]
    if provider not in PROVIDERS:
        raise _invalid(line, "provider", f"must be one of {', '.join(PROVIDERS)}")
    payment_id = _required(values, "provider_payment_id", line)
    return ProviderRecord(
        provider=provider,
        provider_payment_id=payment_id,
        status=_required(values, "status", line),
        pay_currency=values["pay_currency"].lower() or None,
        actually_paid=_amount(values, "actually_paid", line),
        outcome_amount=_amount(values, "outcome_amount", line),
        outcome_currency=values["outcome_currency"].lower() or None,
        updated_at=_time(values, line),
    )


def _required(values: dict[str, str], column: str, line: int) -> str:
    value = values[column]
    if not value:
        raise _invalid(line, column, "is required")
    if len(value) > 255:
        raise _invalid(line, column, "is longer than 255 characters")
    return value


def _amount(values: dict[str, str], column: str, line: int) -> Decimal | None:
    text = values[column]
    if not text:
        return None
    if not _AMOUNT.match(text):
        raise _invalid(line, column, f'{text!r} is not a decimal amount such as "0.00012"')
    return Decimal(text)


def _time(values: dict[str, str], line: int) -> datetime:
    text = values["updated_at"]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _invalid(
            line, "updated_at", f"{text!r} is not an ISO 8601 time with a UTC offset or Z"
        )
    return moment


def _invalid(line: int, column: str | None, problem: str) -> ImportInvalid:
    where = f"line {line}" + (f", column {column}" if column else "")
    return ImportInvalid(f"{where}: {problem}", line=line, column=column)
