"""Development secrets for the embedded platform, made once per data folder and kept there.

The repository contains no secret: API keys and webhook secrets that the services and the sandbox
share are random values written to `<data dir>/dev-secrets.json` (mode 0600) on first start.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class DevSecrets:
    nowpayments_api_key: str
    nowpayments_ipn_secret: str
    nowpayments_password: str
    coinbase_api_key: str
    coinbase_webhook_secret: str
    # Base32 secret of the sandbox NOWPayments account's 2FA, which verifies payouts (refunds).
    nowpayments_payout_totp_secret: str


def load_or_create(data_dir: Path) -> DevSecrets:
    """Read the folder's secrets; make any that are missing (all on a new folder)."""
    path = data_dir / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    fresh = asdict(_generate())
    if stored and set(stored) >= set(fresh):
        return DevSecrets(**{name: stored[name] for name in fresh})
    # A folder made by an older version lacks newer secrets: keep the old ones, add the rest.
    merged = DevSecrets(**{**fresh, **{k: v for k, v in stored.items() if k in fresh}})
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(merged), handle, indent=2)
    os.replace(temporary, path)
    return merged


def _generate() -> DevSecrets:
    return DevSecrets(
        nowpayments_api_key=secrets.token_hex(16),
        nowpayments_ipn_secret=secrets.token_urlsafe(32),
        nowpayments_password=secrets.token_urlsafe(16),
        coinbase_api_key=secrets.token_hex(16),
        coinbase_webhook_secret=secrets.token_urlsafe(32),
        nowpayments_payout_totp_secret=base64.b32encode(secrets.token_bytes(20)).decode(),
    )
