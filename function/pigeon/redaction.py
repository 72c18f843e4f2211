"""Secrets out of every log line and every error: the one owner of redaction.

What can hold a password (a broker URL, the secret's JSON, the password in each of its forms)
is remembered where it is read (``pigeon.endpoints`` for every URL, ``pigeon.credentials`` for
the secret); ``redact`` replaces each, however short (a one-letter password is a password),
and the filter on Pigeon's log handler (pika's lines go through it too) applies it to every
line: its message, its arguments, its extra fields and its traceback, so that an exception's
repr that carries a URL does not reach the log either.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, unquote

REDACTED = "***"

_secrets: set[str] = set()
_longest_first: list[str] = []


def remember(*values: str | None) -> None:
    """Strings that must never appear in a log line or an error (with their URL forms)."""
    added = False
    for value in values:
        if not value:
            continue
        for form in (value, unquote(value), quote(value, safe="")):
            if form and form not in _secrets:
                _secrets.add(form)
                added = True
    if added:
        _longest_first[:] = sorted(_secrets, key=len, reverse=True)


def redact(text: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """The text with every remembered secret (and any in `extra`) replaced."""
    secrets = _longest_first
    if extra:
        secrets = sorted({*_secrets, *(e for e in extra if e)}, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, BaseException):
        return redact(repr(value))
    return value


# The attributes every LogRecord has; anything else came in `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class RedactingFilter(logging.Filter):
    """Redacts each record before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        record.msg, record.args = redact(record.getMessage()), None
        for name in set(vars(record)) - _STANDARD:
            setattr(record, name, _clean(getattr(record, name)))
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(text)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
