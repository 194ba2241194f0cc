"""The RabbitMQ bus on aio-pika: confirmed, mandatory publishing and broker-side retry delays.

Per consuming queue `<queue>` the bus declares:
- `<queue>.retry.<n>`, one per retry delay, whose message TTL is that delay and whose expired
  messages dead-letter back into `<queue>` through the default exchange. RabbitMQ 3.10 has no
  delayed-message exchange without a plugin, and TTL queues need none.
- `<queue>.dlq`, which keeps dead letters with `x-death-reason` and `x-attempts` headers until an
  operator replays them.
The attempt number travels in the `x-attempts` header, so it survives the trip through a retry
queue and is the same on every replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import aio_pika
import aiormq
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.abc import AbstractChannel as RawChannel
from bwai_core.clock import Clock, SystemClock
from bwai_telemetry.metrics import count_dead_letter

from bwai_messaging.bus import (
    DeadLetter,
    DeadLetterNow,
    Delivery,
    Handler,
    Retry,
    RetryPolicy,
    decide_failure,
)
from bwai_messaging.envelope import Event
from bwai_messaging.errors import PublishFailed, Unroutable
from bwai_messaging.rabbit_headers import (
    ATTEMPTS_HEADER,
    CONTENT_TYPE,
    dead_letter_from_message,
    dead_letter_headers,
    redelivery_headers,
)

log = structlog.get_logger()

# A quorum queue dead-letters a message the broker had to redeliver this often (consumer
# crashes or lost channels, not handler failures, which go through the retry queues), so a
# message that kills every consumer cannot loop for ever.
BROKER_DELIVERY_LIMIT = 20
# Upper bound on messages read by one dead_letters() call.
MAX_PEEK = 10_000

_CONNECTION_ERRORS = (
    aiormq.exceptions.AMQPError,
    aio_pika.exceptions.ChannelInvalidStateError,
    ConnectionError,
    TimeoutError,
)


class RabbitBus:
    """The bus over RabbitMQ; one robust connection, one confirming channel per subscription."""

    def __init__(
        self,
        url: str,
        *,
        exchange: str = "bwai.events",
        quorum: bool = True,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        reconnect_interval_s: float = 1.0,
        publish_timeout_s: float = 10.0,
    ) -> None:
        self._url = url
        self._exchange_name = exchange
        self._quorum = quorum
        self._retry = retry or RetryPolicy()
        self._clock = clock or SystemClock()
        self._reconnect_interval_s = reconnect_interval_s
        self._publish_timeout_s = publish_timeout_s
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._channels: list[AbstractChannel] = []

    async def connect(self) -> None:
        """Open the robust connection and declare the durable topic exchange."""
        self._connection = await aio_pika.connect_robust(
            self._url, reconnect_interval=self._reconnect_interval_s
        )
        channel = await self._open_channel()
        self._exchange = await self._declare_exchange(channel)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
        self._exchange = None
        self._channels.clear()

    def is_ready(self) -> bool:
        connection = self._connection
        if connection is None or connection.is_closed or not connection.connected.is_set():
            return False
        return all(not channel.is_closed for channel in self._channels)

    async def publish(self, event: Event) -> None:
        if self._exchange is None:
            raise PublishFailed("the RabbitMQ bus is not connected")
        message = aio_pika.Message(
            event.to_bytes(),
            message_id=event.id,
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={"traceparent": event.traceparent} if event.traceparent else None,
        )
        await self._confirm(self._exchange, message, event.type)

    async def subscribe(
        self, queue: str, bindings: Sequence[str], handler: Handler, *, prefetch: int = 64
    ) -> None:
        """Declare the queue, its retry queues and its DLQ, bind it and consume with `handler`.

        aio-pika's robust channel re-declares all of them and restarts the consumer after a
        reconnect.
        """
        channel = await self._open_channel(prefetch=prefetch)
        exchange = await self._declare_exchange(channel)
        await self._declare_side_queues(channel, queue)
        arguments = self._main_arguments(queue)
        main = await channel.declare_queue(queue, durable=True, arguments=arguments)
        for pattern in bindings:
            await main.bind(exchange, routing_key=pattern)
        await main.consume(self._callback(queue, handler))
        log.info("bus.consumer.started", queue=queue, bindings=list(bindings), prefetch=prefetch)

    async def dead_letters(self, queue: str) -> list[DeadLetter]:
        """Read the DLQ without removing anything: every message read is returned to it."""
        async with self._temporary_channel() as channel:
            dlq = await _existing_queue(channel, f"{queue}.dlq")
            if dlq is None:
                return []
            held = await _drain(dlq)
            letters = [dead_letter_from_message(message, queue) for message in held]
            await _requeue(held)
        return letters

    async def replay_dead_letter(self, queue: str, message_id: str) -> bool:
        """Move one dead letter back into `<queue>` as a first attempt; False if it is not there."""
        async with self._temporary_channel() as channel:
            dlq = await _existing_queue(channel, f"{queue}.dlq")
            if dlq is None:
                return False
            held = await _drain(dlq)
            found = next((message for message in held if message.message_id == message_id), None)
            if found is not None:
                await self._confirm(
                    channel.default_exchange, _replay_message(found), routing_key=queue
                )
                await found.ack()
                held.remove(found)
            await _requeue(held)
        if found is not None:
            log.info("bus.dead_letter.replayed", queue=queue, message_id=message_id)
        return found is not None

    async def _open_channel(self, *, prefetch: int = 0) -> AbstractChannel:
        if self._connection is None:
            raise PublishFailed("the RabbitMQ bus is not connected")
        channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        if prefetch:
            await channel.set_qos(prefetch_count=prefetch)
        self._channels.append(channel)
        return channel

    def _temporary_channel(self) -> _TemporaryChannel:
        if self._connection is None:
            raise PublishFailed("the RabbitMQ bus is not connected")
        return _TemporaryChannel(self._connection)

    async def _declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        return await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def _declare_side_queues(self, channel: AbstractChannel, queue: str) -> None:
        await channel.declare_queue(f"{queue}.dlq", durable=True, arguments=self._type_arguments())
        for level in range(1, self._retry.retry_levels + 1):
            arguments = {
                **self._type_arguments(),
                "x-message-ttl": self._retry.delays_ms[level - 1],
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue,
            }
            if self._quorum:
                # By default a quorum queue may lose a message it dead-letters. The at-least-once
                # strategy (RabbitMQ 3.10+) keeps it until the target queue confirms, and it
                # requires reject-publish overflow.
                arguments["x-dead-letter-strategy"] = "at-least-once"
                arguments["x-overflow"] = "reject-publish"
            await channel.declare_queue(f"{queue}.retry.{level}", durable=True, arguments=arguments)

    def _main_arguments(self, queue: str) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            **self._type_arguments(),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": f"{queue}.dlq",
        }
        if self._quorum:
            arguments["x-delivery-limit"] = BROKER_DELIVERY_LIMIT
        return arguments

    def _type_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum"} if self._quorum else {}

    async def _confirm(
        self, exchange: AbstractExchange, message: aio_pika.Message, routing_key: str
    ) -> None:
        try:
            await exchange.publish(
                message, routing_key, mandatory=True, timeout=self._publish_timeout_s
            )
        except aiormq.exceptions.PublishError:
            raise Unroutable(f"no queue is bound to routing key {routing_key!r}") from None
        except aiormq.exceptions.DeliveryError as error:
            raise PublishFailed(f"the broker rejected the message: {error.frame!r}") from None
        except _CONNECTION_ERRORS as error:
            raise PublishFailed(f"publish to RabbitMQ failed: {error!r}") from error

    def _callback(self, queue: str, handler: Handler) -> Any:
        async def on_message(message: AbstractIncomingMessage) -> None:
            delivery = Delivery(
                body=message.body,
                message_id=message.message_id or "",
                attempt=_attempt_of(message),
                headers=dict(message.headers),
            )
            try:
                await handler(delivery)
            except Exception as error:  # noqa: BLE001 - every failure is settled by decide_failure
                await self._settle_failure(queue, message, delivery, error)
                return
            await _ack(message, queue)

        return on_message

    async def _settle_failure(
        self, queue: str, message: AbstractIncomingMessage, delivery: Delivery, error: Exception
    ) -> None:
        outcome = decide_failure(error, delivery.attempt, self._retry)
        if isinstance(outcome, Retry):
            level = min(delivery.attempt, self._retry.retry_levels)
            headers = redelivery_headers(message.headers, outcome.next_attempt, outcome.error)
            target = f"{queue}.retry.{level}"
            log.warning(
                "bus.message.retry_scheduled",
                queue=queue,
                message_id=delivery.message_id,
                attempt=delivery.attempt,
                delay_ms=outcome.delay_ms,
                error=outcome.error,
            )
        else:
            assert isinstance(outcome, DeadLetterNow)
            now = self._clock.now().astimezone(UTC)
            headers = dead_letter_headers(message.headers, outcome.reason, delivery.attempt, now)
            target = f"{queue}.dlq"
            count_dead_letter(queue)
            log.error(
                "bus.message.dead_lettered",
                queue=queue,
                message_id=delivery.message_id,
                attempts=delivery.attempt,
                reason=outcome.reason,
            )
        await _forward(message, target, headers, queue)


async def _forward(
    message: AbstractIncomingMessage, target: str, headers: dict[str, Any], queue: str
) -> None:
    """Publish a copy to `target` on the delivery's own channel, then ack the original.

    Publishing and acking on the channel that delivered the message means a lost channel does
    neither: the broker then redelivers the original, and no copy exists twice.
    """
    channel = _live_channel(message, queue)
    if channel is None:
        return
    properties = aiormq.spec.Basic.Properties(
        content_type=message.content_type,
        message_id=message.message_id,
        delivery_mode=2,
        headers=headers,
    )
    try:
        await channel.basic_publish(
            message.body, exchange="", routing_key=target, properties=properties, mandatory=True
        )
    except (aiormq.exceptions.DeliveryError, *_CONNECTION_ERRORS) as error:
        # Not acked, so the broker delivers the original again once this channel is gone.
        log.warning("bus.message.forward_failed", queue=queue, target=target, error=repr(error))
        await _nack(message, queue)
        return
    await _ack(message, queue)


def _live_channel(message: AbstractIncomingMessage, queue: str) -> RawChannel | None:
    try:
        return message.channel
    except aio_pika.exceptions.ChannelInvalidStateError:
        log.warning("bus.message.channel_lost", queue=queue, message_id=message.message_id)
        return None


async def _ack(message: AbstractIncomingMessage, queue: str) -> None:
    # A delivery tag is valid only on the channel that delivered it. Once that channel is gone
    # the broker has requeued the message, so there is nothing left to ack.
    if _live_channel(message, queue) is None:
        return
    try:
        await message.ack()
    except _CONNECTION_ERRORS as error:
        log.warning("bus.message.ack_failed", queue=queue, error=repr(error))


async def _nack(message: AbstractIncomingMessage, queue: str) -> None:
    if _live_channel(message, queue) is None:
        return
    try:
        await message.nack(requeue=True)
    except _CONNECTION_ERRORS as error:
        log.warning("bus.message.nack_failed", queue=queue, error=repr(error))


def _attempt_of(message: AbstractIncomingMessage) -> int:
    value = message.headers.get(ATTEMPTS_HEADER, 1)
    return value if isinstance(value, int) and value >= 1 else 1


def _replay_message(message: AbstractIncomingMessage) -> aio_pika.Message:
    return aio_pika.Message(
        message.body,
        message_id=message.message_id,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers=redelivery_headers(message.headers, 1, None),
    )


async def _existing_queue(channel: AbstractChannel, name: str) -> AbstractQueue | None:
    try:
        return await channel.declare_queue(name, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return None


async def _drain(queue: AbstractQueue) -> list[AbstractIncomingMessage]:
    held: list[AbstractIncomingMessage] = []
    while len(held) < MAX_PEEK:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        held.append(message)
    return held


async def _requeue(messages: list[AbstractIncomingMessage]) -> None:
    for message in messages:
        await message.nack(requeue=True)


class _TemporaryChannel:
    """A plain (not robust) confirming channel for one operator call, closed afterwards."""

    def __init__(self, connection: AbstractRobustConnection) -> None:
        self._connection = connection
        self._channel: AbstractChannel | None = None

    async def __aenter__(self) -> AbstractChannel:
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        return self._channel

    async def __aexit__(self, *exc_info: object) -> None:
        # Closing also returns to the queue any message the call still held unacked.
        if self._channel is not None and not self._channel.is_closed:
            await asyncio.shield(self._channel.close())
