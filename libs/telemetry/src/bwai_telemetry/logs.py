"""A structlog processor that stamps each log event with the current trace and span ids."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace


def add_trace_ids(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Add `trace_id` and `span_id` (lower-case hex) when a valid span is current."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = f"{span_context.trace_id:032x}"
        event_dict["span_id"] = f"{span_context.span_id:016x}"
    return event_dict


def install_trace_log_processor() -> None:
    """Insert `add_trace_ids` after the context merge of the configured structlog chain.

    The chain is changed in place because loggers cached on first use keep a reference to the
    list they were built with, and `structlog.configure` would replace it.
    """
    processors = structlog.get_config()["processors"]
    if add_trace_ids in processors:
        return
    merge = structlog.contextvars.merge_contextvars
    position = processors.index(merge) + 1 if merge in processors else 0
    processors.insert(position, add_trace_ids)
