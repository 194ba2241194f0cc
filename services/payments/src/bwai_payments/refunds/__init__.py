"""Refunds: money sent back to a customer in the currency the customer paid in."""
