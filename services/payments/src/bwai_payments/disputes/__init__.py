"""Disputes: an operator records that a payment is contested, and how it ended."""
