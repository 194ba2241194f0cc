"""Fiat amounts: parsed from strings only, checked against each currency's minor unit."""

from __future__ import annotations

import re
from decimal import Decimal

# ISO 4217 minor units that differ from 2; every other three-letter code uses 2 places.
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}

# Plain decimal notation only: no exponent, sign, spaces or thousands separators.
_AMOUNT = re.compile(r"^(0|[1-9]\d{0,15})(\.\d+)?$")
MAX_AMOUNT = Decimal("1000000000000")


def minor_unit(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def parse_fiat_amount(text: str, currency: str) -> Decimal:
    """Parse a positive amount such as "49.99"; raise ValueError naming what is wrong."""
    if not _AMOUNT.match(text):
        raise ValueError('must be a decimal string such as "49.99" (digits and one dot)')
    amount = Decimal(text)
    places = minor_unit(currency)
    if -amount.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValueError(f"{currency} allows at most {places} decimal places")
    if amount <= 0:
        raise ValueError("must be greater than 0")
    if amount > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    return amount


def format_fiat(amount: Decimal, currency: str) -> str:
    """Write an amount with exactly the currency's minor unit ("49.90", "1000" for JPY)."""
    return format(amount.quantize(Decimal(1).scaleb(-minor_unit(currency))), "f")


def format_crypto(amount: Decimal | None) -> str | None:
    """Write a crypto amount in plain notation without trailing zeros ("0.00152")."""
    if amount is None:
        return None
    text = format(amount.normalize(), "f")
    return text
