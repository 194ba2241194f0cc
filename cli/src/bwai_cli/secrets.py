"""Development secrets for the embedded platform, made once per data folder and kept there.

The repository holds no secret: API keys and webhook secrets that the services and the sandbox
share are random values written to `<data dir>/dev-secrets.json` (mode 0600) on first start.
"""

from __future__ import annotations

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


def load_or_create(data_dir: Path) -> DevSecrets:
    path = data_dir / "dev-secrets.json"
    if path.exists():
        return DevSecrets(**json.loads(path.read_text()))
    made = DevSecrets(
        nowpayments_api_key=secrets.token_hex(16),
        nowpayments_ipn_secret=secrets.token_urlsafe(32),
        nowpayments_password=secrets.token_urlsafe(16),
        coinbase_api_key=secrets.token_hex(16),
        coinbase_webhook_secret=secrets.token_urlsafe(32),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(made), handle, indent=2)
    return made
