"""A process-local copy of the session entries a Redis ``SESSION_CACHE`` holds.

A round trip to Redis costs more than the rest of a message's path (on the benchmark
machine 67 µs on loopback for the socket alone, 115 µs through redis-py). Redis (6.0 and
later) can tell a client which keys changed: *client tracking* in broadcast mode pushes
the name of every key under a prefix that any client writes, deletes, expires or evicts,
and ``null`` when the database is flushed. This module keeps one such subscription per
process (:class:`Invalidations`, a small RESP2 client over its own socket) and a bounded
dictionary of the entries this process has read (:class:`NearCache`). A message whose
entry is in the dictionary costs no round trip at all: only a non-blocking read of the
subscription's socket, which applies every pending invalidation first.

Why this stays exact:

- every write the session cache makes (an entry, a tombstone) goes to Redis, and Redis
  pushes the key's name to every subscribed process — this one included — while it
  processes the write, before the writer's transaction commits;
- a value read from Redis is kept only if no invalidation of its key (and no flush) was
  applied while the read was in flight, so a read that raced with a change never
  outlives it;
- if the subscription breaks, the dictionary is emptied and every read goes to Redis
  until the subscription is back.

The one window left is the time Redis takes to push the name (microseconds on one
machine, a network hop otherwise), far below the time a client needs to send its next
message. ``APIGW_WS["SESSION_CACHE_LOCAL_ENTRIES"]`` bounds the dictionary (``0``
turns this off: one Redis round trip per message).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

#: Seconds between attempts to subscribe again after the subscription broke.
RETRY_SECONDS = 1.0
#: Seconds a connect or a handshake reply may take.
CONNECT_TIMEOUT = 2.0
_CHANNEL = b"__redis__:invalidate"
#: What :meth:`Invalidations.poll` returns when Redis flushed its database.
FLUSH = object()


class ProtocolError(Exception):
    """Redis answered something this client does not understand."""


class _Incomplete(Exception):
    pass


def _parse(buf: bytes, pos: int) -> tuple[Any, int]:
    """Parse one RESP2 value from ``buf`` at ``pos``; return it and the next position."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line = buf[pos : pos + 1], buf[pos + 1 : end]
    pos = end + 2
    if kind in (b"+", b":"):
        return line, pos
    if kind == b"-":
        raise ProtocolError(line.decode("utf-8", "replace"))
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(buf) < pos + size + 2:
            raise _Incomplete
        return buf[pos : pos + size], pos + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count):
            item, pos = _parse(buf, pos)
            items.append(item)
        return items, pos
    raise ProtocolError(f"unexpected RESP type {kind!r}")


def _command(*parts: Any) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def redis_address(cache: Any) -> dict[str, Any] | None:
    """Return where a Django ``RedisCache`` writes (host or path, credentials, TLS).

    ``None`` when this module cannot follow it: several servers (reads may go to a
    replica), or a scheme other than ``redis://``, ``rediss://`` and ``unix://``.
    """
    servers = getattr(cache, "_servers", None)
    if not servers or len(servers) != 1:
        return None
    url = urlsplit(servers[0])
    options = getattr(cache, "_options", {}) or {}
    address: dict[str, Any] = {
        "username": options.get("username") or (unquote(url.username) if url.username else None),
        "password": options.get("password") or (unquote(url.password) if url.password else None),
        "tls": url.scheme == "rediss",
    }
    if url.scheme == "unix":
        address["path"] = url.path
    elif url.scheme in ("redis", "rediss"):
        address["host"], address["port"] = url.hostname or "localhost", url.port or 6379
    else:
        return None
    return address


class Invalidations:
    """One subscription to Redis's invalidation pushes for the keys under ``prefix``."""

    def __init__(self, address: dict[str, Any], prefix: str) -> None:
        self.address = address
        self.prefix = prefix
        self._sock: socket.socket | None = None
        self._buf = b""
        self._retry_at = 0.0
        self._pid = 0
        #: Bumped by every new subscription: what was kept before it may have missed pushes
        #: (a process forked with copies, a subscription that broke and came back).
        self.generation = 0

    @property
    def live(self) -> bool:
        return self._sock is not None and self._pid == os.getpid()

    def ensure(self) -> bool:
        """Subscribe if not subscribed (at most once per ``RETRY_SECONDS``); return ``live``."""
        if self.live:
            return True
        if self._sock is not None:  # inherited from a parent process: not ours to use
            self._sock, self._buf, self._retry_at = None, b"", 0.0
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + RETRY_SECONDS
        try:
            self._subscribe()
        except (OSError, ProtocolError, ValueError, _Incomplete) as exc:
            self.close()
            logger.warning(
                "apigw_ws: no local session cache (Redis invalidation subscription failed:"
                " %s: %s); every message reads Redis",
                type(exc).__name__,
                exc,
            )
            return False
        return True

    def _subscribe(self) -> None:
        addr = self.address
        if "path" in addr:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(addr["path"])
        else:
            sock = socket.create_connection((addr["host"], addr["port"]), CONNECT_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if addr["tls"]:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=addr["host"])
        self._sock, self._buf, self._pid = sock, b"", os.getpid()
        self.generation += 1
        if addr["password"]:
            auth = (addr["username"], addr["password"]) if addr["username"] else (addr["password"],)
            self._ask(_command("AUTH", *auth))
        client_id = int(self._ask(_command("CLIENT", "ID")))
        self._ask(
            _command(
                "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", "PREFIX", self.prefix
            )
        )
        reply = self._ask(_command("SUBSCRIBE", _CHANNEL))
        if not (isinstance(reply, list) and reply[:1] == [b"subscribe"]):
            raise ProtocolError(f"unexpected SUBSCRIBE reply {reply!r}")
        sock.setblocking(False)
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)

    def _ask(self, command: bytes) -> Any:
        assert self._sock is not None
        self._sock.sendall(command)
        while True:
            try:
                value, pos = _parse(self._buf, 0)
            except _Incomplete:
                data = self._sock.recv(65536)
                if not data:
                    raise ConnectionError("Redis closed the connection") from None
                self._buf += data
                continue
            self._buf = self._buf[pos:]
            return value

    def poll(self) -> list[Any] | None:
        """Return what changed since the last poll: key names, and ``FLUSH`` for a flush.

        ``None`` when the subscription is down (and it was closed): the caller must then
        forget everything it kept.
        """
        sock = self._sock
        if sock is None:
            return None
        pending = isinstance(sock, ssl.SSLSocket) and sock.pending()  # decrypted, unread
        if not self._buf and not pending and not self._poller.poll(0):
            return []  # nothing arrived: the common case, one cheap syscall
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                self._buf += data
                if len(data) < 65536:
                    break
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError as exc:
            logger.warning("apigw_ws: Redis invalidation subscription lost: %s", exc)
            self.close()
            return None
        if not self._buf:
            return []
        changed: list[Any] = []
        pos = 0
        try:
            while pos < len(self._buf):
                message, pos = _parse(self._buf, pos)
                if not (isinstance(message, list) and len(message) == 3):
                    continue
                if message[0] != b"message" or message[1] != _CHANNEL:
                    continue
                keys = message[2]
                if keys is None:
                    changed.append(FLUSH)
                else:
                    changed.extend(k.decode("utf-8", "replace") for k in keys)
        except _Incomplete:
            pass
        except (ProtocolError, ValueError) as exc:
            logger.warning("apigw_ws: Redis invalidation subscription unreadable: %s", exc)
            self.close()
            return None
        self._buf = self._buf[pos:]
        return changed

    def close(self) -> None:
        if self._sock is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock, self._buf = None, b""


_MISSING = object()


class NearCache:
    """Entries read from ``backend`` (a Django ``RedisCache``), kept in this process.

    ``get`` serves a kept entry after applying every pending invalidation; anything
    else reads ``backend``. Writes go straight to ``backend`` and drop the local copy.
    """

    def __init__(
        self, backend: Any, invalidations: Invalidations, max_entries: int, key_prefix: str
    ) -> None:
        self.backend = backend
        # Keys here are the backend's (``key_prefix`` + ...); Redis names them with the
        # cache's KEY_PREFIX and version first, i.e. ``invalidations.prefix`` + ...
        self._strip = len(invalidations.prefix)
        self._key_prefix = key_prefix
        self.invalidations = invalidations
        self.max_entries = max_entries
        self._entries: dict[str, Any] = {}
        self._inflight: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._flushes = 0
        self._generation = 0
        self._lock = threading.Lock()

    def _apply(self) -> bool:
        """Apply pending invalidations (under the lock); return whether entries can be kept."""
        if not self.invalidations.ensure():
            self._forget_all()
            return False
        if self._generation != self.invalidations.generation:
            self._generation = self.invalidations.generation
            self._forget_all()  # kept before this subscription: it may have missed pushes
        changed = self.invalidations.poll()
        if changed is None:
            self._forget_all()
            return False
        for key in changed:
            if key is FLUSH:
                self._forget_all()
            else:
                key = self._key_prefix + key[self._strip :]
                self._entries.pop(key, None)
                if key in self._inflight:
                    self._dirty.add(key)
        return True

    def _forget_all(self) -> None:
        self._entries.clear()
        self._flushes += 1

    def get(self, key: str) -> Any:
        with self._lock:
            tracking = self._apply()
            if tracking:
                value = self._entries.get(key, _MISSING)
                if value is not _MISSING:
                    return value
            flushes = self._flushes
            self._inflight[key] = self._inflight.get(key, 0) + 1
        try:
            value = self.backend.get(key)
        finally:
            with self._lock:
                tracking = self._apply()
                fresh = key not in self._dirty and flushes == self._flushes
                left = self._inflight[key] - 1
                if left:
                    self._inflight[key] = left
                else:
                    del self._inflight[key]
                    self._dirty.discard(key)
        if value is not None and tracking and fresh:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = value
        return value

    def _drop(self, keys: Any) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)
                if key in self._inflight:
                    self._dirty.add(key)

    def set(self, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self._drop([key])
        self.backend.set(key, value, *args, **kwargs)

    def add(self, key: str, value: Any, *args: Any, **kwargs: Any) -> bool:
        self._drop([key])
        return self.backend.add(key, value, *args, **kwargs)

    def set_many(self, data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._drop(data)
        return self.backend.set_many(data, *args, **kwargs)
