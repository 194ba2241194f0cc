"""Operator audit: an append-only record of every operator action on payments."""
