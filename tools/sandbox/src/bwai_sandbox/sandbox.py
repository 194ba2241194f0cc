"""The sandbox's actions, shared by the provider APIs, the checkout pages and the control API."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from bwai_core.clock import Clock
from bwai_core.ids import new_id_str
from bwai_providers.nowpayments import canonical_json, sign_ipn

from bwai_sandbox.coinbase import payloads as coinbase_payloads
from bwai_sandbox.coinbase import service as coinbase_service
from bwai_sandbox.coinbase.models import Charge
from bwai_sandbox.delivery import SKIPPED, Delivery, RenderWebhook, WebhookSender
from bwai_sandbox.errors import CheckoutNotFound, DeliveryNotFound
from bwai_sandbox.faults import FAIL_BEFORE_CREATE, Fault, FaultMode, InjectedFailure
from bwai_sandbox.jswriter import dumps_js
from bwai_sandbox.models import DeliveryOptions, PayRequest, Provider
from bwai_sandbox.nowpayments import service as nowpayments_service
from bwai_sandbox.nowpayments.models import Invoice
from bwai_sandbox.settings import SandboxSettings
from bwai_sandbox.state import SandboxState

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    event: str
    payment_id: str | None
    render: RenderWebhook


@dataclass(frozen=True, slots=True)
class PayResult:
    provider: Provider
    checkout_id: str
    payment_id: str | None
    status: str
    deliveries: list[Delivery]

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider.value,
            "checkout_id": self.checkout_id,
            "payment_id": self.payment_id,
            "status": self.status,
            "deliveries": [d.to_json() for d in self.deliveries],
        }


class Sandbox:
    """Facade over the state and the webhook sender, called by every HTTP surface."""

    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.state = SandboxState()
        self.sender = WebhookSender(settings, clock)

    def take_create_fault(self, provider: Provider) -> Fault | None:
        """Use up an armed fault for a create request; raise at once for the early modes."""
        fault = self.state.take_fault(provider)
        if fault is not None:
            log.info("sandbox.fault.triggered", provider=provider.value, mode=fault.mode.value)
            if fault.mode in FAIL_BEFORE_CREATE:
                raise InjectedFailure(provider, fault.mode)
        return fault

    async def finish_create(self, provider: Provider, fault: Fault | None) -> None:
        """Apply the part of a fault that comes after the checkout was created."""
        if fault is None:
            return
        if fault.mode is FaultMode.TIMEOUT_AFTER_CREATE:
            await asyncio.sleep(fault.hang_seconds)
        elif fault.mode is FaultMode.ERROR_500_AFTER_CREATE:
            raise InjectedFailure(provider, fault.mode)

    def find_invoice(self, invoice_id: str) -> Invoice:
        invoice = self.state.nowpayments.invoices.get(invoice_id)
        if invoice is None:
            raise CheckoutNotFound(f"NOWPayments invoice {invoice_id} not found")
        return invoice

    def find_charge(self, code_or_id: str) -> Charge:
        charge = self.state.coinbase.find(code_or_id)
        if charge is None:
            raise CheckoutNotFound(f"Coinbase charge {code_or_id} not found")
        return charge

    async def pay(
        self, provider: Provider, checkout_id: str, request: PayRequest, options: DeliveryOptions
    ) -> PayResult:
        """Play a payment on a checkout and start sending its webhooks."""
        async with self.state.lock:
            if provider is Provider.NOWPAYMENTS:
                return self._pay_nowpayments(checkout_id, request, options)
            return self._pay_coinbase(checkout_id, request, options)

    async def deposit(
        self, invoice_id: str, amount: Decimal | None, options: DeliveryOptions
    ) -> PayResult:
        """Record a repeated deposit on a NOWPayments invoice and send its IPNs."""
        async with self.state.lock:
            invoice = self.find_invoice(invoice_id)
            payment, snapshots = nowpayments_service.repeat_deposit(
                self.state.nowpayments, invoice, amount, self.clock
            )
            deliveries = self._send_ipns(invoice, str(payment.payment_id), snapshots, options)
            return PayResult(
                Provider.NOWPAYMENTS,
                invoice.id,
                str(payment.payment_id),
                payment.status,
                deliveries,
            )

    def announce_charge(self, charge: Charge) -> None:
        """Send charge:created, as Coinbase does for every new charge of the account."""
        data = coinbase_payloads.charge_data(charge, self.settings.base_url)
        message = WebhookMessage(
            "charge:created", charge.id, self._coinbase_render("charge:created", data)
        )
        self._dispatch(
            Provider.COINBASE,
            charge.id,
            self.settings.coinbase_webhook_url,
            [message],
            DeliveryOptions(),
        )

    def resend(self, delivery_id: str) -> Delivery:
        delivery = self.state.deliveries.get(delivery_id)
        if delivery is None:
            raise DeliveryNotFound(f"delivery {delivery_id} not found")
        if delivery.state != SKIPPED:
            self.sender.resend(delivery)
        return delivery

    async def reset(self) -> None:
        """Forget everything and stop pending webhooks."""
        await self.sender.cancel_all()
        async with self.state.lock:
            self.state.reset()

    def _pay_nowpayments(
        self, invoice_id: str, request: PayRequest, options: DeliveryOptions
    ) -> PayResult:
        invoice = self.find_invoice(invoice_id)
        payment, snapshots = nowpayments_service.pay(
            self.state.nowpayments, invoice, request, self.clock
        )
        deliveries = self._send_ipns(invoice, str(payment.payment_id), snapshots, options)
        return PayResult(
            Provider.NOWPAYMENTS, invoice.id, str(payment.payment_id), payment.status, deliveries
        )

    def _pay_coinbase(
        self, code_or_id: str, request: PayRequest, options: DeliveryOptions
    ) -> PayResult:
        charge = self.find_charge(code_or_id)
        messages = []
        for event_type, change in coinbase_service.scenario(charge, request, self.clock):
            change()
            data = coinbase_payloads.charge_data(charge, self.settings.base_url)
            messages.append(
                WebhookMessage(event_type, charge.id, self._coinbase_render(event_type, data))
            )
        url = self.settings.coinbase_webhook_url
        deliveries = self._dispatch(Provider.COINBASE, charge.id, url, messages, options)
        return PayResult(Provider.COINBASE, charge.id, charge.id, charge.status, deliveries)

    def _send_ipns(
        self,
        invoice: Invoice,
        payment_id: str,
        snapshots: list[dict[str, Any]],
        options: DeliveryOptions,
    ) -> list[Delivery]:
        messages = [
            WebhookMessage(s["payment_status"], payment_id, self._nowpayments_render(s, options))
            for s in snapshots
        ]
        return self._dispatch(
            Provider.NOWPAYMENTS, invoice.id, invoice.ipn_callback_url, messages, options
        )

    def _nowpayments_render(
        self, snapshot: dict[str, Any], options: DeliveryOptions
    ) -> RenderWebhook:
        # Real deliveries arrive sorted at every depth; the documented order tests receivers
        # that must sort before they hash. The signature is the same either way.
        if options.nowpayments_key_order == "documented":
            body = dumps_js(snapshot).encode("utf-8")
        else:
            body = canonical_json(snapshot).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "x-nowpayments-sig": sign_ipn(body, self.settings.nowpayments_ipn_secret),
        }
        return lambda attempt: (body, headers)

    def _coinbase_render(self, event_type: str, data: dict[str, Any]) -> RenderWebhook:
        event = coinbase_payloads.event(event_type, data, self.clock.now())
        envelope_id = str(uuid.uuid4())
        secret = self.settings.coinbase_webhook_secret

        def render(attempt: int) -> tuple[bytes, dict[str, str]]:
            body = coinbase_payloads.webhook_body(event, envelope_id, attempt)
            return body, coinbase_payloads.webhook_headers(body, secret)

        return render

    def _dispatch(
        self,
        provider: Provider,
        checkout_id: str,
        url: str | None,
        messages: list[WebhookMessage],
        options: DeliveryOptions,
    ) -> list[Delivery]:
        """Record one delivery per webhook and copy, order them, and start sending."""
        skip_reason = self._skip_reason(provider, url)
        planned = [
            self._delivery(provider, checkout_id, url, message, sequence, copy, skip_reason)
            for sequence, message in enumerate(messages)
            for copy in range(options.duplicates + 1)
        ]
        if options.reverse:
            planned.reverse()
        if options.shuffle:
            # A test order, not a secret, so the seeded generator is the right tool.
            random.Random(options.seed).shuffle(planned)  # noqa: S311

        for delivery in planned:
            self.state.deliveries[delivery.id] = delivery
        self.sender.send_in_order(planned, delay_ms=options.delay_ms)
        return planned

    def _delivery(
        self,
        provider: Provider,
        checkout_id: str,
        url: str | None,
        message: WebhookMessage,
        sequence: int,
        copy: int,
        skip_reason: str | None,
    ) -> Delivery:
        delivery = Delivery(
            id=new_id_str(),
            provider=provider,
            checkout_id=checkout_id,
            event=message.event,
            url=url,
            render=message.render,
            created_at=self.clock.now(),
            payment_id=message.payment_id,
            sequence=sequence,
            copy=copy,
        )
        # Rendered now so the caller sees each body before it is sent.
        delivery.last_body, delivery.last_headers = message.render(1)
        if skip_reason is not None:
            delivery.state, delivery.skip_reason = SKIPPED, skip_reason
        return delivery

    def _skip_reason(self, provider: Provider, url: str | None) -> str | None:
        if provider is Provider.NOWPAYMENTS and not self.settings.nowpayments_ipn_secret:
            # NOWPayments sends no IPNs at all while the IPN secret is unset.
            return "no IPN secret is set"
        if provider is Provider.COINBASE and not self.settings.coinbase_webhook_secret:
            return "no webhook secret is set"
        return self.sender.skip_reason(url)
