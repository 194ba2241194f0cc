"""The mail sink end to end: real SMTP in, the page and the JSON API out."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest
from bwai_mailsink import MailSink, create_app


@pytest.fixture
async def sink() -> AsyncIterator[MailSink]:
    sink = MailSink("127.0.0.1", 0)
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
async def client(sink: MailSink) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(sink))
    async with httpx.AsyncClient(transport=transport, base_url="http://mailsink.test") as client:
        yield client


async def _send(
    sink: MailSink, *, to: str, subject: str, text: str, html_body: str | None = None
) -> None:
    message = EmailMessage()
    message["From"] = "Build With AI <no-reply@bwai.test>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    await aiosmtplib.send(message, hostname=sink.host, port=sink.smtp_port)


async def test_json_list_newest_first(sink: MailSink, client: httpx.AsyncClient) -> None:
    await _send(sink, to="ana@shop.example", subject="first", text="one")
    await _send(sink, to="bo@shop.example", subject="second", text="two")

    response = await client.get("/messages")

    assert response.status_code == 200
    assert [message["subject"] for message in response.json()] == ["second", "first"]


async def test_json_list_filters_by_recipient(sink: MailSink, client: httpx.AsyncClient) -> None:
    await _send(sink, to="Ana <ana@shop.example>", subject="for ana", text="one")
    await _send(sink, to="bo@shop.example", subject="for bo", text="two")

    response = await client.get("/messages", params={"to": "ANA@shop.example"})

    [message] = response.json()
    assert message["subject"] == "for ana"
    assert message["rcpt_tos"] == ["ana@shop.example"]
    assert message["text"] == "one\n"
    assert message["html"] is None


async def test_message_json_has_parts_and_headers(
    sink: MailSink, client: httpx.AsyncClient
) -> None:
    await _send(sink, to="ana@shop.example", subject="hi", text="plain", html_body="<p>rich</p>")
    [stored] = sink.store.list()

    response = await client.get(f"/messages/{stored.id}.json")

    body = response.json()
    assert body["id"] == stored.id
    assert body["from"] == "Build With AI <no-reply@bwai.test>"
    assert body["mail_from"] == "no-reply@bwai.test"
    assert body["text"] == "plain\n"
    assert body["html"] == "<p>rich</p>\n"
    assert ["Subject", "hi"] in body["headers"]
    assert body["received_at"].endswith("+00:00")


async def test_unknown_message_is_404(client: httpx.AsyncClient) -> None:
    json_response = await client.get("/messages/missing.json")
    page_response = await client.get("/messages/missing")

    assert json_response.status_code == 404
    assert page_response.status_code == 404


async def test_delete_clears_every_message(sink: MailSink, client: httpx.AsyncClient) -> None:
    await _send(sink, to="ana@shop.example", subject="hi", text="x")

    response = await client.delete("/messages")

    assert response.status_code == 204
    assert (await client.get("/messages")).json() == []


async def test_index_page_lists_subjects_escaped(sink: MailSink, client: httpx.AsyncClient) -> None:
    await _send(sink, to="ana@shop.example", subject="<script>alert(1)</script>", text="x")
    [stored] = sink.store.list()

    response = await client.get("/")

    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert f'href="/messages/{stored.id}"' in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_message_page_sandboxes_html_part(sink: MailSink, client: httpx.AsyncClient) -> None:
    hostile = '<p>hi</p><script>alert("x")</script><img src="https://tracker.example/p.gif">'
    await _send(
        sink, to="ana@shop.example", subject="hi", text="plain <b>text</b>", html_body=hostile
    )
    [stored] = sink.store.list()

    response = await client.get(f"/messages/{stored.id}")

    page = response.text
    assert '<iframe sandbox=""' in page
    assert "<script>" not in page
    assert "plain &lt;b&gt;text&lt;/b&gt;" in page
    srcdoc = page.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert html.unescape(srcdoc) == hostile + "\n"


async def test_store_keeps_only_newest_messages() -> None:
    sink = MailSink("127.0.0.1", 0, max_messages=2)
    await sink.start()
    try:
        for subject in ("one", "two", "three"):
            await _send(sink, to="ana@shop.example", subject=subject, text="x")
    finally:
        await sink.stop()

    assert [message.subject for message in sink.store.list()] == ["three", "two"]


async def test_wait_for_returns_message_once_it_arrives(sink: MailSink) -> None:
    await _send(sink, to="ana@shop.example", subject="verify", text="code 42")

    found = await sink.store.wait_for(lambda m: "ana@shop.example" in m.recipients(), timeout_s=2)

    assert found.subject == "verify"


async def test_wait_for_times_out_without_message(sink: MailSink) -> None:
    with pytest.raises(TimeoutError):
        await sink.store.wait_for(lambda m: True, timeout_s=0.05)
