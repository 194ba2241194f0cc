"""Provider-shaped identifiers."""

from __future__ import annotations

import secrets
from collections.abc import Container

# Coinbase charge codes are 8 characters of upper-case letters and digits.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def ten_digit_id(taken: Container[int]) -> int:
    """Return an unused 10-digit number, the size of NOWPayments invoice and payment ids."""
    while True:
        candidate = 1_000_000_000 + secrets.randbelow(9_000_000_000)
        if candidate not in taken:
            return candidate


def charge_code(taken: Container[str]) -> str:
    while True:
        candidate = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if candidate not in taken:
            return candidate


def hex_token(length: int) -> str:
    return secrets.token_hex(length // 2 + 1)[:length]
