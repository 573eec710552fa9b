"""Keep connect tokens out of log lines: a ``logging.Filter`` that masks them.

A token travels in the ``Sec-WebSocket-Protocol`` entry ``apigw_ws.token.<token>`` or in
``?ws_token=<token>``, and libraries log both: aiohttp warns with the client's whole
subprotocol list when none overlaps the server's, HTTP servers log request lines with their
query. The local gateway puts this filter on aiohttp's loggers; a project can put it on
any other (``django.server`` under ``runserver``, see the security docs).
"""

from __future__ import annotations

import logging
import re

from .subprotocols import TOKEN_PREFIX

MASK = "***"
_TOKEN_RE = re.compile(rf"({re.escape(TOKEN_PREFIX)}|\bws_token=)[^\s,'\"&;\]\)]+")

#: The loggers of aiohttp that can see a handshake or a request line.
AIOHTTP_LOGGERS = ("aiohttp.websocket", "aiohttp.access", "aiohttp.server", "aiohttp.web")


def redact_tokens(text: str) -> str:
    """Return ``text`` with every token entry and ``ws_token`` value masked."""
    return _TOKEN_RE.sub(rf"\g<1>{MASK}", text)


class TokenRedactingFilter(logging.Filter):
    """Mask tokens in a record's message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = TokenRedactingFilter()


def redact_loggers(names: tuple[str, ...] = AIOHTTP_LOGGERS) -> None:
    """Put the filter on the loggers ``names`` (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
