"""Provider API keys read through the secret store: a changed key is used without a restart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
from bwai_core.clock import FrozenClock
from bwai_core.ids import new_id
from bwai_core.secrets import SecretWatcher
from bwai_payments.definition import KEY_WATCHER_KEY, on_start, on_stop
from bwai_payments.payments.service import ADAPTERS_KEY
from bwai_payments.providers import CheckoutOrder
from bwai_payments.settings import PaymentsSettings
from bwai_web.service import ServiceContext

# Made-up keys for this test only.
FIRST_KEY = "api-key-test-first"
SECOND_KEY = "api-key-test-second"


def _context(settings: PaymentsSettings, http: httpx.AsyncClient, clock: FrozenClock) -> Any:
    # on_start and on_stop use only the settings, the HTTP client and the extras.
    return ServiceContext(
        name="payments",
        settings=settings,
        pool=cast(Any, None),
        bus=cast(Any, None),
        clock=clock,
        schemas=cast(Any, None),
        token_verifier=cast(Any, None),
        http=http,
    )


def _invoice_server(seen_keys: list[str | None]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen_keys.append(request.headers.get("x-api-key"))
        invoice = {"id": "4522625843", "invoice_url": "https://nowpayments.example.test/i/1"}
        return httpx.Response(200, json={**invoice, "order_id": "ref"})

    return httpx.MockTransport(handle)


async def _create_invoice(ctx: ServiceContext) -> None:
    order = CheckoutOrder(new_id(), "t1", Decimal("49.99"), "USD", "Website", None, None)
    await ctx.extras[ADAPTERS_KEY]["nowpayments"].create_checkout(order, new_id(), None)


async def test_changed_key_file_used_without_restart(tmp_path: Path, clock: FrozenClock) -> None:
    key_file = tmp_path / "nowpayments_api_key"
    key_file.write_text(FIRST_KEY + "\n")
    settings = PaymentsSettings(
        environment="test",
        secrets_backend="file",
        secrets_dir=tmp_path,
        # Long enough that the background poll never runs during the test; it calls check().
        secrets_cache_ttl_seconds=3600,
    )
    seen_keys: list[str | None] = []
    async with httpx.AsyncClient(transport=_invoice_server(seen_keys)) as http:
        ctx = _context(settings, http, clock)
        await on_start(ctx)
        watcher = ctx.extras[KEY_WATCHER_KEY]
        assert isinstance(watcher, SecretWatcher)

        await _create_invoice(ctx)
        key_file.write_text(SECOND_KEY + "\n")
        changed = await watcher.check()
        await _create_invoice(ctx)
        await on_stop(ctx)

    assert changed is True
    assert seen_keys == [FIRST_KEY, SECOND_KEY]
    assert "coinbase_commerce" not in ctx.extras[ADAPTERS_KEY]


async def test_env_backend_uses_settings_keys(clock: FrozenClock) -> None:
    settings = PaymentsSettings(environment="test", coinbase_commerce_api_key=FIRST_KEY)
    async with httpx.AsyncClient(transport=_invoice_server([])) as http:
        ctx = _context(settings, http, clock)
        await on_start(ctx)
        adapters = dict(ctx.extras[ADAPTERS_KEY])
        await on_stop(ctx)

    assert set(adapters) == {"coinbase_commerce"}
