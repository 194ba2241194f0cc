"""Payment provider wire formats: webhook signatures, exact-decimal JSON and event normalisers.

Pure functions only: nothing here reads the network, the clock or a database.
"""

from bwai_providers.errors import (
    PayloadInvalid,
    ProviderWebhookError,
    SignatureInvalid,
    SignatureMissing,
)
from bwai_providers.events import (
    ProviderEventData,
    normalise_coinbase_event,
    normalise_nowpayments_ipn,
)
from bwai_providers.payload import VerifiedPayload, parse_json_object

__all__ = [
    "PayloadInvalid",
    "ProviderEventData",
    "ProviderWebhookError",
    "SignatureInvalid",
    "SignatureMissing",
    "VerifiedPayload",
    "normalise_coinbase_event",
    "normalise_nowpayments_ipn",
    "parse_json_object",
]
