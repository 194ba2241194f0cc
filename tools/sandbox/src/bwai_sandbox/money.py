"""Fixed exchange rates and amount rounding, so every sandbox amount is predictable.

The rates are made up; they only have to be stable. All arithmetic is Decimal.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Price of one unit of each asset in US dollars.
_ASSET_USD = {
    "btc": Decimal("65000"),
    "eth": Decimal("3200"),
    "ltc": Decimal("80"),
    "bch": Decimal("400"),
    "doge": Decimal("0.15"),
    "trx": Decimal("0.12"),
    "sol": Decimal("150"),
    "usdttrc20": Decimal("1"),
    "usdterc20": Decimal("1"),
    "usdc": Decimal("1"),
}
# Decimal places each asset is quoted in.
_ASSET_PLACES = {"usdttrc20": 6, "usdterc20": 6, "usdc": 6, "eth": 9, "trx": 6}
_DEFAULT_PLACES = 8

# Value of one unit of each fiat currency in US dollars.
_FIAT_USD = {"usd": Decimal("1"), "eur": Decimal("1.08"), "gbp": Decimal("1.27")}

SUPPORTED_ASSETS = tuple(sorted(_ASSET_USD))
SUPPORTED_FIAT = tuple(sorted(_FIAT_USD))


def is_asset(code: str) -> bool:
    return code.lower() in _ASSET_USD


def is_fiat(code: str) -> bool:
    return code.lower() in _FIAT_USD


def asset_places(asset: str) -> int:
    return _ASSET_PLACES.get(asset.lower(), _DEFAULT_PLACES)


def quantize_asset(amount: Decimal, asset: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-asset_places(asset)), rounding=ROUND_HALF_UP)


def quantize_fiat(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def to_asset(price: Decimal, fiat: str, asset: str) -> Decimal:
    """Convert a fiat price into the asset, rounded to the asset's places."""
    usd = price * _FIAT_USD[fiat.lower()]
    return quantize_asset(usd / _ASSET_USD[asset.lower()], asset)


def to_fiat(amount: Decimal, asset: str, fiat: str) -> Decimal:
    """Convert an asset amount into fiat, rounded to cents."""
    usd = amount * _ASSET_USD[asset.lower()]
    return quantize_fiat(usd / _FIAT_USD[fiat.lower()])


def scale(amount: Decimal, factor: str, asset: str) -> Decimal:
    return quantize_asset(amount * Decimal(factor), asset)
