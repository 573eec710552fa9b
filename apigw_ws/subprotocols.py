"""The ``Sec-WebSocket-Protocol`` list a client offers on connect, and which entry to echo.

Browsers cannot set headers on a WebSocket handshake, so next to the query string the
subprotocol list is the only place a page can put a credential. Entries that start with
``apigw_ws.token.`` carry a connect token; they are never echoed. The server answers with
the first other entry the client offered (a browser fails the handshake if it offered
subprotocols and the answer names none of them).
"""

from __future__ import annotations

import re

#: Prefix of the entry that carries a connect token: ``apigw_ws.token.<token>``.
TOKEN_PREFIX = "apigw_ws.token."
#: Valid entries kept, in the client's order; the rest of a longer list is ignored.
MAX_OFFERED = 16
MAX_ENTRY_LENGTH = 256

# RFC 6455 subprotocol names are RFC 7230 tokens.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def offered(header: str) -> tuple[str, ...]:
    """Return the valid entries of a ``Sec-WebSocket-Protocol`` value, in order.

    Entries that are empty, not RFC 7230 tokens or longer than ``MAX_ENTRY_LENGTH`` are
    dropped, repeats are kept once, and at most ``MAX_OFFERED`` entries are returned.
    """
    entries: list[str] = []
    for raw in header.split(","):
        entry = raw.strip(" \t")
        if len(entry) <= MAX_ENTRY_LENGTH and _TOKEN_RE.fullmatch(entry) and entry not in entries:
            entries.append(entry)
            if len(entries) == MAX_OFFERED:
                break
    return tuple(entries)


def is_token_entry(entry: str) -> bool:
    """Return whether ``entry`` carries a connect token."""
    return entry.startswith(TOKEN_PREFIX)


def tokens_in(entries: tuple[str, ...]) -> tuple[str, ...]:
    """Return the tokens carried by ``entries`` (normally none or one)."""
    return tuple(e[len(TOKEN_PREFIX) :] for e in entries if is_token_entry(e))


def choose(entries: tuple[str, ...]) -> str | None:
    """Return the entry to echo: the first one that carries no token, or ``None``."""
    return next((e for e in entries if not is_token_entry(e)), None)
