"""Parsing Mailcow's write answers, in the shapes of the fixture file, into results and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bwai_mail import MailcowError, MailcowObjectExists, MailcowValidationError
from bwai_mail.mailcow.responses import parse_write, read_failure

RESPONSES: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "mailcow" / "responses.json").read_text()
)


def test_success_list_returns_messages() -> None:
    result = parse_write(RESPONSES["domain_added"])

    assert result.messages == (("domain_added", "shop.example"),)
    assert result.warnings == ()


def test_success_with_warning_surfaces_warning() -> None:
    result = parse_write(RESPONSES["domain_added_with_sogo_warning"])

    assert result.warnings == (("domain_added_sogo_failed",),)


def test_generic_success_object_accepted() -> None:
    result = parse_write(RESPONSES["generic_success"])

    assert result.messages == (("Task completed",),)


@pytest.mark.parametrize(
    ("name", "error_type", "msg"),
    [
        ("domain_exists", MailcowObjectExists, ["domain_exists", "shop.example"]),
        ("mailbox_exists", MailcowObjectExists, ["object_exists", "info@shop.example"]),
        ("alias_address_taken", MailcowObjectExists, ["is_alias_or_mailbox", "sales@shop.example"]),
        ("password_complexity", MailcowValidationError, ["password_complexity"]),
        ("max_mailbox_exceeded", MailcowValidationError, ["max_mailbox_exceeded", "10", "10"]),
    ],
)
def test_danger_entry_raises_typed_error(
    name: str, error_type: type[MailcowError], msg: list[str]
) -> None:
    with pytest.raises(error_type) as raised:
        parse_write(RESPONSES[name])

    assert raised.value.msg == msg
    assert raised.value.msg_key == msg[0]


@pytest.mark.parametrize("name", ["generic_error", "missing_attributes", "access_denied"])
def test_generic_failure_is_plain_mailcow_error(name: str) -> None:
    with pytest.raises(MailcowError) as raised:
        parse_write(RESPONSES[name])

    assert type(raised.value) is MailcowError


def test_danger_after_success_still_fails() -> None:
    body = [*RESPONSES["domain_added"], *RESPONSES["password_complexity"]]

    with pytest.raises(MailcowValidationError):
        parse_write(body)


def test_secret_in_message_is_masked() -> None:
    body = [{"type": "danger", "log": [], "msg": ["password_invalid", "hunter2-long"]}]

    with pytest.raises(MailcowValidationError) as raised:
        parse_write(body, secrets=["hunter2-long"])

    assert raised.value.msg == ["password_invalid", "***"]
    assert "hunter2-long" not in str(raised.value)


@pytest.mark.parametrize("body", [[], "ok", None, [1, 2]])
def test_unexpected_shape_is_mailcow_error(body: Any) -> None:
    with pytest.raises(MailcowError, match="Unexpected Mailcow response"):
        parse_write(body)


def test_read_failure_detects_error_object() -> None:
    failure = read_failure(RESPONSES["route_not_found"])

    assert isinstance(failure, MailcowError)
    assert read_failure({"domain_name": "shop.example"}) is None
    assert read_failure({}) is None
