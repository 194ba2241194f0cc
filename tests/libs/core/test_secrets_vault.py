"""The Vault KV version 2 backend against a fake Vault server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bwai_core.secrets import (
    SecretAccessDenied,
    SecretBackendUnavailable,
    SecretNotFound,
    VaultSecretStore,
)
from fake_vault import FakeVault, serve_fake_vault

# Made-up tokens and values for the fake server; nothing here is a real credential.
TOKEN = "fake-vault-token-for-tests"


@pytest.fixture
async def vault() -> AsyncIterator[tuple[FakeVault, str]]:
    fake = FakeVault(token=TOKEN)
    async with serve_fake_vault(fake) as addr:
        yield fake, addr


async def test_vault_reads_latest_version(vault: tuple[FakeVault, str]) -> None:
    fake, addr = vault
    fake.put("bwai/nowpayments_ipn_secret", {"value": "first-value"})
    fake.put("bwai/nowpayments_ipn_secret", {"value": "second-value"})
    store = VaultSecretStore(addr, token=TOKEN, path_prefix="bwai")

    secret = await store.get("nowpayments_ipn_secret")
    await store.aclose()

    assert secret.value == "second-value"
    assert secret.version == "2"
    assert secret.updated_at is not None


async def test_vault_reads_older_version(vault: tuple[FakeVault, str]) -> None:
    fake, addr = vault
    fake.put("bwai/api_key", {"value": "first-value"})
    fake.put("bwai/api_key", {"value": "second-value"})
    store = VaultSecretStore(addr, token=TOKEN, path_prefix="bwai")

    secret = await store.read("api_key", version=1)
    await store.aclose()

    assert secret.value == "first-value"
    assert secret.version == "1"


async def test_vault_bad_token_is_access_denied(vault: tuple[FakeVault, str]) -> None:
    fake, addr = vault
    fake.put("bwai/api_key", {"value": "some-value"})
    store = VaultSecretStore(addr, token="wrong-token", path_prefix="bwai")

    with pytest.raises(SecretAccessDenied) as caught:
        await store.get("api_key")
    await store.aclose()

    assert "HTTP 403" in str(caught.value)
    assert "bwai/api_key" in str(caught.value)
    assert "wrong-token" not in str(caught.value)


async def test_vault_missing_secret_not_found(vault: tuple[FakeVault, str]) -> None:
    _, addr = vault
    store = VaultSecretStore(addr, token=TOKEN, path_prefix="bwai")

    with pytest.raises(SecretNotFound, match="bwai/absent_secret"):
        await store.get("absent_secret")
    await store.aclose()


async def test_vault_missing_field_not_found(vault: tuple[FakeVault, str]) -> None:
    fake, addr = vault
    fake.put("bwai/api_key", {"other": "some-value"})
    store = VaultSecretStore(addr, token=TOKEN, path_prefix="bwai")

    with pytest.raises(SecretNotFound, match="'value'"):
        await store.get("api_key")
    await store.aclose()


async def test_vault_caches_until_ttl(vault: tuple[FakeVault, str]) -> None:
    fake, addr = vault
    fake.put("bwai/api_key", {"value": "first-value"})
    now = [100.0]
    store = VaultSecretStore(
        addr, token=TOKEN, path_prefix="bwai", cache_ttl_s=30, monotonic=lambda: now[0]
    )

    first = await store.get("api_key")
    fake.put("bwai/api_key", {"value": "second-value"})
    cached = await store.get("api_key")
    now[0] += 30
    refreshed = await store.get("api_key")
    await store.aclose()

    assert first.value == "first-value"
    assert cached.value == "first-value"
    assert refreshed.value == "second-value"
    assert len(fake.requests) == 2


async def test_vault_token_file_reread(vault: tuple[FakeVault, str], tmp_path: Path) -> None:
    fake, addr = vault
    fake.put("bwai/api_key", {"value": "some-value"})
    token_file = tmp_path / "token"
    token_file.write_text("expired-token\n")
    store = VaultSecretStore(addr, token_file=token_file, path_prefix="bwai", cache_ttl_s=0)

    with pytest.raises(SecretAccessDenied):
        await store.get("api_key")
    token_file.write_text(TOKEN + "\n")
    secret = await store.get("api_key")
    await store.aclose()

    assert secret.value == "some-value"


async def test_vault_unreachable_is_unavailable() -> None:
    # A port that was just free: nothing listens there, so the connection is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = VaultSecretStore(f"http://127.0.0.1:{port}", token=TOKEN, timeout_s=2)

    with pytest.raises(SecretBackendUnavailable, match="api_key"):
        await store.get("api_key")
    await store.aclose()


def test_vault_needs_one_token_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        VaultSecretStore("http://127.0.0.1:8200")
    with pytest.raises(ValueError, match="exactly one"):
        VaultSecretStore("http://127.0.0.1:8200", token=TOKEN, token_file=tmp_path / "token")
