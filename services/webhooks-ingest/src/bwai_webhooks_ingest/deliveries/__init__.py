"""Receiving provider webhooks: verify, keep every delivery, publish each new event once."""
