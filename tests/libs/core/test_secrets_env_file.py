"""The environment and mounted-file secret backends, and store selection by settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bwai_core.secrets import (
    EnvSecretStore,
    FileSecretStore,
    SecretNotFound,
    SecretsSettings,
    VaultSecretStore,
    secret_store_from_settings,
)
from pydantic import ValidationError


async def test_env_reads_prefixed_upper_name() -> None:
    store = EnvSecretStore({"BWAI_NOWPAYMENTS_API_KEY": "env-value"})

    secret = await store.get("nowpayments_api_key")

    assert secret.value == "env-value"
    assert secret.version is None


@pytest.mark.parametrize("environ", [{}, {"BWAI_API_KEY": "   "}])
async def test_env_unset_or_blank_not_found(environ: dict[str, str]) -> None:
    store = EnvSecretStore(environ)

    with pytest.raises(SecretNotFound, match="BWAI_API_KEY"):
        await store.get("api_key")


@pytest.mark.parametrize("name", ["../etc/passwd", "API_KEY", "", "a/b", "_hidden"])
async def test_invalid_name_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid secret name"):
        await FileSecretStore(tmp_path).get(name)
    with pytest.raises(ValueError, match="invalid secret name"):
        await EnvSecretStore({}).get(name)


async def test_file_read_without_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "api_key").write_text("file-value\n")
    store = FileSecretStore(tmp_path)

    secret = await store.get("api_key")

    assert secret.value == "file-value"
    assert secret.version is not None
    assert secret.updated_at is not None


async def test_file_reread_after_change(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    path.write_text("first-value")
    store = FileSecretStore(tmp_path)
    first = await store.get("api_key")

    path.write_text("second-value")
    second = await store.get("api_key")

    assert first.value == "first-value"
    assert second.value == "second-value"
    assert second.version != first.version


async def test_file_replaced_by_rename_reread(tmp_path: Path) -> None:
    """An atomic replace, as Kubernetes does through its ..data symlink, changes the inode."""
    path = tmp_path / "api_key"
    path.write_text("first-value")
    store = FileSecretStore(tmp_path)
    first = await store.get("api_key")
    mtime_ns = path.stat().st_mtime_ns

    staged = tmp_path / "staged"
    staged.write_text("other-value")
    # Same size and modification time as the old file: only the inode differs.
    os.utime(staged, ns=(mtime_ns, mtime_ns))
    os.replace(staged, path)
    second = await store.get("api_key")

    assert first.value == "first-value"
    assert second.value == "other-value"


async def test_file_unchanged_not_reread(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    path.write_text("file-value")
    store = FileSecretStore(tmp_path)
    first = await store.get("api_key")

    second = await store.get("api_key")

    assert second is first


@pytest.mark.parametrize("content", [None, "", "\n"])
async def test_file_missing_or_empty_not_found(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "api_key").write_text(content)

    with pytest.raises(SecretNotFound, match="api_key"):
        await FileSecretStore(tmp_path).get("api_key")


async def test_file_removed_after_read_not_found(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    path.write_text("file-value")
    store = FileSecretStore(tmp_path)
    await store.get("api_key")

    path.unlink()

    with pytest.raises(SecretNotFound):
        await store.get("api_key")


async def test_settings_select_env_with_configured_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BWAI_OTHER_SECRET", "from-environment")
    store = secret_store_from_settings(SecretsSettings(), configured={"api_key": "configured"})

    assert isinstance(store, EnvSecretStore)
    assert (await store.get("api_key")).value == "configured"
    assert (await store.get("other_secret")).value == "from-environment"


def test_settings_select_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BWAI_SECRETS_BACKEND", "file")
    monkeypatch.setenv("BWAI_SECRETS_DIR", str(tmp_path))

    store = secret_store_from_settings(SecretsSettings())

    assert isinstance(store, FileSecretStore)


async def test_settings_select_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BWAI_SECRETS_BACKEND", "vault")
    monkeypatch.setenv("BWAI_VAULT_ADDR", "http://127.0.0.1:8200")
    monkeypatch.setenv("BWAI_VAULT_TOKEN", "fake-token-for-tests")

    store = secret_store_from_settings(SecretsSettings())
    await store.aclose()

    assert isinstance(store, VaultSecretStore)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"secrets_backend": "file"}, "BWAI_SECRETS_DIR"),
        ({"secrets_backend": "vault", "vault_token": "t"}, "BWAI_VAULT_ADDR"),
        ({"secrets_backend": "vault", "vault_addr": "http://127.0.0.1:8200"}, "exactly one"),
    ],
)
def test_settings_incomplete_backend_rejected(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SecretsSettings(**values)  # type: ignore[arg-type]
