"""CachedSecret refresh by TTL, RotatingSecret grace periods and SecretWatcher callbacks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from bwai_core.clock import FrozenClock
from bwai_core.secrets import (
    CachedSecret,
    EnvSecretStore,
    RotatingSecret,
    SecretBackendUnavailable,
    SecretNotFound,
    SecretValue,
    SecretWatcher,
)


class CountingStore:
    """An in-memory store that counts its reads and can be made to fail."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.reads = 0
        self.failing = False
        self.closed = False

    async def get(self, name: str) -> SecretValue:
        self.reads += 1
        if self.failing:
            raise SecretBackendUnavailable(name, "store failure injected by the test")
        if name not in self.values:
            raise SecretNotFound(name, f"secret {name!r} is not set")
        return SecretValue(self.values[name])

    async def aclose(self) -> None:
        self.closed = True


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_cached_secret_refreshes_after_ttl() -> None:
    store = CountingStore({"api_key": "first"})
    monotonic = FakeMonotonic()
    secret = CachedSecret(store, "api_key", ttl_s=5, monotonic=monotonic)

    first = await secret.value()
    store.values["api_key"] = "second"
    monotonic.now += 4.9
    within_ttl = await secret.value()
    monotonic.now += 0.1
    after_ttl = await secret.value()

    assert first == "first"
    assert within_ttl == "first"
    assert after_ttl == "second"
    assert store.reads == 2


async def test_cached_secret_concurrent_callers_read_once() -> None:
    store = CountingStore({"api_key": "value"})
    secret = CachedSecret(store, "api_key", ttl_s=5)

    values = await asyncio.gather(*(secret.value() for _ in range(20)))

    assert set(values) == {"value"}
    assert store.reads == 1


async def test_cached_secret_missing_cached_too() -> None:
    store = CountingStore({})
    secret = CachedSecret(store, "api_key", ttl_s=5)

    for _ in range(3):
        with pytest.raises(SecretNotFound):
            await secret.get()

    assert store.reads == 1


async def test_cached_secret_keeps_value_when_store_fails() -> None:
    store = CountingStore({"api_key": "value"})
    monotonic = FakeMonotonic()
    secret = CachedSecret(store, "api_key", ttl_s=5, monotonic=monotonic)
    await secret.get()

    store.failing = True
    monotonic.now += 10
    value = await secret.value()

    assert value == "value"


async def test_cached_secret_raises_when_first_read_fails() -> None:
    store = CountingStore({"api_key": "value"})
    store.failing = True
    secret = CachedSecret(store, "api_key")

    with pytest.raises(SecretBackendUnavailable):
        await secret.get()


async def test_cached_secret_repr_hides_value() -> None:
    secret = await CachedSecret(EnvSecretStore({"BWAI_API_KEY": "hidden-value"}), "api_key").get()

    assert "hidden-value" not in repr(secret)


async def test_rotation_keeps_previous_for_grace(clock: FrozenClock) -> None:
    store = CountingStore({"ipn_secret": "old-value"})
    monotonic = FakeMonotonic()
    secret = RotatingSecret(
        store, "ipn_secret", clock=clock, grace=timedelta(hours=24), ttl_s=1, monotonic=monotonic
    )
    before = await secret.candidates()

    store.values["ipn_secret"] = "new-value"
    monotonic.now += 1
    during = await secret.candidates()
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    late_in_grace = await secret.candidates()
    clock.advance(timedelta(seconds=1))
    after = await secret.candidates()

    assert [(c.value, c.slot) for c in before] == [("old-value", "current")]
    assert [(c.value, c.slot, c.source) for c in during] == [
        ("new-value", "current", None),
        ("old-value", "previous", "rotation"),
    ]
    assert [c.value for c in late_in_grace] == ["new-value", "old-value"]
    assert [c.value for c in after] == ["new-value"]


async def test_rotation_explicit_previous_accepted(clock: FrozenClock) -> None:
    store = CountingStore({"ipn_secret": "new-value", "ipn_secret_previous": "old-value"})
    secret = RotatingSecret(store, "ipn_secret", clock=clock, grace=timedelta(0))

    candidates = await secret.candidates()

    assert [(c.value, c.slot, c.source) for c in candidates] == [
        ("new-value", "current", None),
        ("old-value", "previous", "explicit"),
    ]


async def test_rotation_explicit_previous_not_repeated(clock: FrozenClock) -> None:
    store = CountingStore({"ipn_secret": "same-value", "ipn_secret_previous": "same-value"})
    secret = RotatingSecret(store, "ipn_secret", clock=clock, grace=timedelta(hours=1))

    candidates = await secret.candidates()

    assert [c.slot for c in candidates] == ["current"]


async def test_rotation_unset_current_accepts_nothing(clock: FrozenClock) -> None:
    store = CountingStore({"ipn_secret_previous": "old-value"})
    secret = RotatingSecret(store, "ipn_secret", clock=clock, grace=timedelta(hours=1))

    assert await secret.candidates() == ()


async def test_watcher_calls_back_on_change() -> None:
    store = CountingStore({"api_key": "first"})
    seen: list[dict[str, str | None]] = []
    watcher = SecretWatcher(store, ["api_key", "other_key"], on_change=seen.append, interval_s=60)

    started = await watcher.start()
    unchanged = await watcher.check()
    store.values["api_key"] = "second"
    changed = await watcher.check()
    await watcher.stop()

    assert started == {"api_key": "first", "other_key": None}
    assert unchanged is False
    assert changed is True
    assert seen == [
        {"api_key": "first", "other_key": None},
        {"api_key": "second", "other_key": None},
    ]
    assert store.closed


async def test_watcher_keeps_value_when_store_fails() -> None:
    store = CountingStore({"api_key": "first"})
    seen: list[dict[str, str | None]] = []
    watcher = SecretWatcher(store, ["api_key"], on_change=seen.append, interval_s=60)
    await watcher.start()

    store.failing = True
    changed = await watcher.check()
    await watcher.stop()

    assert changed is False
    assert seen == [{"api_key": "first"}]
