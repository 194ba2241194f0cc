"""Secret holders that services keep instead of strings: refreshed from the store, rotation tracked.

A service keeps one holder per secret for its whole life and asks it for the value each time it
needs one. The holder calls the store at most once per `ttl_s`, so a changed value is in use
within `ttl_s` plus whatever the store itself caches, with no restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import structlog

from bwai_core.clock import Clock
from bwai_core.secrets.base import SecretStore, SecretValue, check_name, previous_name
from bwai_core.secrets.errors import SecretError, SecretNotFound

log = structlog.get_logger()

DEFAULT_TTL_S = 5.0


class CachedSecret:
    """One secret from a store, re-fetched when older than `ttl_s` seconds.

    A missing secret is cached like a value, so an unset secret costs one store call per TTL.
    When a refresh fails for another reason (Vault unreachable, token expired) the last value
    is kept and the refresh is retried after the next TTL; with no last value the error is raised.
    """

    def __init__(
        self,
        store: SecretStore,
        name: str,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = check_name(name)
        self._store = store
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._result: SecretValue | SecretNotFound | None = None
        self._expires_at = 0.0

    async def get(self) -> SecretValue:
        """Return the secret, refreshing it first when the cached one is older than the TTL.

        Raises SecretNotFound when it is unset, or another SecretError when the store fails
        and no earlier value is known.
        """
        if self._result is None or self._monotonic() >= self._expires_at:
            async with self._lock:
                # Another task may have refreshed it while this one waited for the lock.
                if self._result is None or self._monotonic() >= self._expires_at:
                    await self._refresh()
        assert self._result is not None
        if isinstance(self._result, SecretNotFound):
            raise self._result
        return self._result

    async def value(self) -> str:
        return (await self.get()).value

    def invalidate(self) -> None:
        """Make the next `get` read the store, even within the TTL."""
        self._expires_at = 0.0

    async def _refresh(self) -> None:
        try:
            self._result = await self._store.get(self.name)
        except SecretNotFound as exc:
            self._result = exc
        except SecretError as exc:
            if not isinstance(self._result, SecretValue):
                raise
            log.warning(
                "secret.refresh.failed_using_cached",
                secret_name=self.name,
                error=str(exc),
                error_type=type(exc).__name__,
            )
        self._expires_at = self._monotonic() + self._ttl_s


SecretSlot = Literal["current", "previous"]
# Origin of a previous value: remembered at a rotation, or the explicit <name>_previous.
PreviousSource = Literal["rotation", "explicit"]


@dataclass(frozen=True, slots=True)
class SecretCandidate:
    """One value a signature may have been made with, and which slot it fills."""

    value: str = field(repr=False)
    slot: SecretSlot
    source: PreviousSource | None = None


@dataclass(frozen=True, slots=True)
class _Rotated:
    value: str = field(repr=False)
    accepted_until: datetime


class RotatingSecret:
    """A secret checked against incoming signatures, accepting the previous value for a while.

    When the current value changes, the value it replaced stays accepted for `grace` from the
    moment the change was seen. That memory is per process: a replica that starts after the
    rotation only has the explicit `<name>_previous` secret, which is accepted for as long as
    it is set.
    """

    def __init__(
        self,
        store: SecretStore,
        name: str,
        *,
        clock: Clock,
        grace: timedelta,
        ttl_s: float = DEFAULT_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = check_name(name)
        self._clock = clock
        self._grace = grace
        self._current = CachedSecret(store, name, ttl_s=ttl_s, monotonic=monotonic)
        self._previous = CachedSecret(store, previous_name(name), ttl_s=ttl_s, monotonic=monotonic)
        self._last_value: str | None = None
        self._rotated: _Rotated | None = None

    async def candidates(self) -> tuple[SecretCandidate, ...]:
        """Return the values to try, current first; empty when the current secret is unset.

        Raises SecretError when the store fails before any value was ever read.
        """
        try:
            current = await self._current.get()
        except SecretNotFound:
            return ()
        self._note_value(current)

        found = [SecretCandidate(current.value, "current")]
        rotated = self._rotated
        if rotated is not None and self._clock.now() < rotated.accepted_until:
            found.append(SecretCandidate(rotated.value, "previous", "rotation"))
        explicit = await self._explicit_previous()
        if explicit is not None and all(c.value != explicit for c in found):
            found.append(SecretCandidate(explicit, "previous", "explicit"))
        return tuple(found)

    def _note_value(self, current: SecretValue) -> None:
        # No await between the comparison and the update, so concurrent callers see one change.
        last = self._last_value
        self._last_value = current.value
        if last is None or last == current.value:
            return
        accepted_until = self._clock.now() + self._grace
        self._rotated = _Rotated(last, accepted_until)
        log.info(
            "secret.rotated",
            secret_name=self.name,
            version=current.version,
            previous_accepted_until=accepted_until.isoformat(),
        )

    async def _explicit_previous(self) -> str | None:
        try:
            return await self._previous.value()
        except SecretNotFound:
            return None
        except SecretError as exc:
            # The current value still works, so a failing previous must not reject everything.
            log.warning(
                "secret.previous.unavailable",
                secret_name=self._previous.name,
                error=str(exc),
                error_type=type(exc).__name__,
            )
            return None
