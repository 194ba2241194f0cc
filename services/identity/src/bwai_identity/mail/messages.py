"""The emails identity sends, each with a plain-text and an HTML body.

The HTML body is rendered with autoescaping, so a tenant name or address cannot inject markup.
"""

from __future__ import annotations

from bwai_mail.smtp import OutgoingMail
from jinja2 import Environment, StrictUndefined

# The plain-text body is not HTML, so escaping would only garble it.
_TEXT = Environment(autoescape=False, undefined=StrictUndefined)  # noqa: S701
_HTML = Environment(autoescape=True, undefined=StrictUndefined)

_HTML_LAYOUT = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 36em">
<p>{{ intro }}</p>
<p><a href="{{ link }}">{{ action }}</a></p>
<p>Or use this code: <code>{{ token }}</code></p>
<p style="color: #666">{{ note }}</p>
</body></html>
"""

_TEXT_LAYOUT = """{{ intro }}

{{ action }}: {{ link }}

Or use this code: {{ token }}

{{ note }}
"""


def verification_mail(*, to: str, link: str, token: str, valid_hours: int) -> OutgoingMail:
    return _mail(
        to=to,
        subject="Verify your email address",
        intro="Welcome to Build With AI. Confirm that this address is yours to finish signing up.",
        action="Verify my email address",
        link=link,
        token=token,
        note=f"The link works once and expires in {valid_hours} hours. If you did not sign up, "
        "ignore this message.",
    )


def password_reset_mail(*, to: str, link: str, token: str, valid_minutes: int) -> OutgoingMail:
    return _mail(
        to=to,
        subject="Reset your password",
        intro="Someone asked to reset the password of your Build With AI account.",
        action="Choose a new password",
        link=link,
        token=token,
        note=f"The link works once, expires in {valid_minutes} minutes and stops working when "
        "the password changes. If you did not ask for it, ignore this message.",
    )


def invitation_mail(
    *, to: str, tenant: str, role: str, link: str, token: str, valid_days: int
) -> OutgoingMail:
    return _mail(
        to=to,
        subject=f"You are invited to {tenant} on Build With AI",
        intro=f"You are invited to join {tenant} as {role}.",
        action="Accept the invitation",
        link=link,
        token=token,
        note=f"The invitation works once and expires in {valid_days} days.",
    )


def already_registered_mail(*, to: str, sign_in_link: str) -> OutgoingMail:
    """Sent when someone signs up with a registered address, so sign-up does not reveal it."""
    return _mail(
        to=to,
        subject="You already have an account",
        intro="Someone tried to sign up to Build With AI with this address, which already has "
        "an account.",
        action="Sign in or reset your password",
        link=sign_in_link,
        token="(none needed)",  # noqa: S106 - no token in this mail
        note="If this was not you, you can ignore this message.",
    )


def _mail(**values: str) -> OutgoingMail:
    to, subject = values.pop("to"), values.pop("subject")
    text = _TEXT.from_string(_TEXT_LAYOUT).render(**values)
    html = _HTML.from_string(_HTML_LAYOUT).render(**values)
    return OutgoingMail(to=to, subject=subject, text=text, html=html)
