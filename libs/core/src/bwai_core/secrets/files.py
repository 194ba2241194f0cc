"""Secrets from mounted files: one file per secret, named after it, in one directory.

This is the layout of a Kubernetes secret volume or a Docker secret. A file is re-read when its
inode, modification time or size changes, so an updated mount is picked up without a restart.
Kubernetes swaps the whole directory through a symlink; `stat` follows it, so the inode changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bwai_core.secrets.base import SecretValue, check_name
from bwai_core.secrets.errors import SecretBackendUnavailable, SecretNotFound


@dataclass(frozen=True, slots=True)
class _Cached:
    identity: tuple[int, int, int]
    secret: SecretValue


class FileSecretStore:
    def __init__(self, directory: Path | str) -> None:
        self._directory = Path(directory)
        self._cache: dict[str, _Cached] = {}

    async def get(self, name: str) -> SecretValue:
        return read_secret_file(self._directory / check_name(name), name, self._cache)

    async def aclose(self) -> None:
        return None


def read_secret_file(path: Path, name: str, cache: dict[str, _Cached]) -> SecretValue:
    """Return the secret in `path`, re-reading it only when the file changed since last time.

    One trailing line break is dropped because editors and `echo` add it. The calls block, but
    a stat and a read of a small local file take microseconds.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        cache.pop(name, None)
        raise SecretNotFound(name, f"secret {name!r} is not set: no file {path}") from None
    except OSError as exc:
        raise SecretBackendUnavailable(name, f"cannot read secret file {path}: {exc}") from exc

    identity = (status.st_ino, status.st_mtime_ns, status.st_size)
    cached = cache.get(name)
    if cached is not None and cached.identity == identity:
        return cached.secret

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretBackendUnavailable(name, f"cannot read secret file {path}: {exc}") from exc
    value = text.removesuffix("\n").removesuffix("\r")
    if not value.strip():
        raise SecretNotFound(name, f"secret {name!r} is not set: file {path} is empty")

    secret = SecretValue(
        value,
        version=f"{status.st_ino}:{status.st_mtime_ns}",
        updated_at=datetime.fromtimestamp(status.st_mtime, UTC),
    )
    cache[name] = _Cached(identity, secret)
    return secret
