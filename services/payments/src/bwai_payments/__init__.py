"""Payments service: orders, provider checkouts, payment state machine, ledger."""
