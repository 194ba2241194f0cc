"""Run reports as CSV and as a readable HTML page (the JSON report is RunReport)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from html import escape

import asyncpg

from bwai_payments.money import format_crypto
from bwai_payments.reconciliation.models import OUTCOMES, RunOut

CSV_COLUMNS = (
    "record_id",
    "provider_payment_id",
    "payment_id",
    "outcome",
    "differences",
    "provider_status",
    "internal_status",
    "provider_pay_currency",
    "internal_pay_currency",
    "provider_actually_paid",
    "internal_actually_paid",
    "provider_outcome_amount",
    "internal_outcome_amount",
    "provider_outcome_currency",
    "internal_outcome_currency",
    "provider_changed_at",
    "internal_changed_at",
    "resolved_at",
    "resolved_by",
    "resolution_note",
)
_AMOUNT_COLUMNS = frozenset(
    {
        "provider_actually_paid",
        "internal_actually_paid",
        "provider_outcome_amount",
        "internal_outcome_amount",
    }
)


def csv_header() -> str:
    return _csv_lines([CSV_COLUMNS])


def csv_rows(records: Iterable[asyncpg.Record]) -> str:
    return _csv_lines(_csv_values(record) for record in records)


def _csv_values(record: asyncpg.Record) -> list[str]:
    values = []
    for column in CSV_COLUMNS:
        value = record["id" if column == "record_id" else column]
        values.append(_cell(column, value))
    return values


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if column in _AMOUNT_COLUMNS:
        return format_crypto(value) or ""  # type: ignore[arg-type]
    if column == "differences":
        return " ".join(value)  # type: ignore[arg-type]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _csv_lines(rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def html_page(run: RunOut, mismatches: list[asyncpg.Record], limit: int) -> str:
    """Render the run's counts and its mismatches (at most `limit` rows) as one HTML page."""
    title = f"Reconciliation {run.provider} {run.day} v{run.version}"
    counts = "".join(
        f"<tr><th>{escape(outcome)}</th><td>{run.counts[outcome]}</td></tr>" for outcome in OUTCOMES
    )
    shown = mismatches[:limit]
    rows = "".join(_html_row(record) for record in shown)
    more = (
        f"<p>Showing the first {limit} mismatches; the CSV report has every record.</p>"
        if len(mismatches) > limit
        else ""
    )
    return _PAGE.format(
        title=escape(title),
        status=escape(run.status),
        progress=run.progress,
        total=run.total,
        rate=escape(run.mismatch_rate),
        percent=escape(_percent(run.mismatch_rate)),
        provider_records=run.provider_records,
        foreign=run.foreign_records,
        source=escape(run.source),
        started=escape(run.started_at.isoformat()),
        completed=escape(run.completed_at.isoformat() if run.completed_at else "-"),
        counts=counts,
        rows=rows or '<tr><td colspan="9">No mismatches.</td></tr>',
        more=more,
        csv_link=f"/v1/reconciliation/runs/{run.id}/report.csv",
    )


def _html_row(record: asyncpg.Record) -> str:
    cells = [
        str(record["id"]),
        record["provider_payment_id"],
        record["outcome"],
        " ".join(record["differences"]),
        f"{record['provider_status'] or '-'} / {record['internal_status'] or '-'}",
        _pair(record, "pay_currency"),
        _amounts(record, "actually_paid"),
        _amounts(record, "outcome_amount"),
        _resolution(record),
    ]
    return "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>"


def _pair(record: asyncpg.Record, name: str) -> str:
    return f"{record['provider_' + name] or '-'} / {record['internal_' + name] or '-'}"


def _amounts(record: asyncpg.Record, name: str) -> str:
    provider = format_crypto(record["provider_" + name]) or "-"
    internal = format_crypto(record["internal_" + name]) or "-"
    return f"{provider} / {internal}"


def _resolution(record: asyncpg.Record) -> str:
    if record["resolved_at"] is None:
        return "open"
    return f"resolved by {record['resolved_by']}: {record['resolution_note']}"


def _percent(rate: str) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}%"


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>Status <strong>{status}</strong>, source {source}, started {started}, completed {completed}.</p>
<p>Compared <strong>{total}</strong> records ({provider_records} from the provider,
{foreign} foreign records left out); progress {progress}.
Mismatch rate <strong>{rate}</strong> ({percent}).</p>
<table><caption>Records per outcome</caption>{counts}</table>
<h2>Mismatches</h2>
<table>
<tr><th>Record</th><th>Provider payment</th><th>Outcome</th><th>Differences</th>
<th>Status (provider / ours)</th><th>Pay currency (provider / ours)</th>
<th>Actually paid (provider / ours)</th><th>Settled amount (provider / ours)</th>
<th>Resolution</th></tr>
{rows}
</table>
{more}
<p><a href="{csv_link}">Download every record as CSV</a></p>
</body>
</html>
"""
