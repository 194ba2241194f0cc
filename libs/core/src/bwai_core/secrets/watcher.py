"""Polling a few secrets in the background, for values baked into long-lived objects.

Some objects take a secret once, when they are built (an HTTP adapter's headers, for example).
A SecretWatcher re-reads those secrets on an interval and hands the new values to a callback,
which rebuilds the objects, so a rotated key is used without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import structlog

from bwai_core.secrets.base import SecretStore
from bwai_core.secrets.errors import SecretError, SecretNotFound
from bwai_core.secrets.holders import CachedSecret

log = structlog.get_logger()

# Values by secret name; None when the secret is unset.
SecretValues = dict[str, str | None]
# Below this, polling would spin when the cache TTL is set to zero.
MIN_INTERVAL_S = 1.0


class SecretWatcher:
    """Call `on_change` with every watched value at start and again whenever one changes.

    `on_change` runs in the event loop and must not block. The watcher closes `store` on stop.
    """

    def __init__(
        self,
        store: SecretStore,
        names: Sequence[str],
        *,
        on_change: Callable[[SecretValues], None],
        interval_s: float,
    ) -> None:
        self._store = store
        # The watcher polls on its own interval, so the holders ask the store on every poll.
        self._secrets = [CachedSecret(store, name, ttl_s=0) for name in names]
        self._on_change = on_change
        self._interval_s = max(interval_s, MIN_INTERVAL_S)
        self._values: SecretValues | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> SecretValues:
        """Read every secret, call `on_change` once, then poll in a background task."""
        await self.check()
        self._task = asyncio.create_task(self._poll(), name="secret-watcher")
        assert self._values is not None
        return self._values

    async def check(self) -> bool:
        """Read the secrets now; call `on_change` and return True when a value changed."""
        values = {secret.name: await self._read(secret) for secret in self._secrets}
        if values == self._values:
            return False
        changed = [
            name
            for name in values
            if self._values is None or values[name] != self._values.get(name)
        ]
        self._values = values
        log.info("secret.watch.changed", secret_names=changed)
        self._on_change(dict(values))
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._store.aclose()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.check()
            except Exception:
                # A failing callback must not end the polling; the next change retries it.
                log.exception("secret.watch.failed")

    async def _read(self, secret: CachedSecret) -> str | None:
        try:
            return await secret.value()
        except SecretNotFound:
            return None
        except SecretError as exc:
            # Keep the last value known; the next poll tries again.
            log.error("secret.watch.read_failed", secret_name=secret.name, error=str(exc))
            return self._values.get(secret.name) if self._values is not None else None
