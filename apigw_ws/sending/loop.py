"""The process's sending loop: an event loop in a daemon thread, and its pooled session.

One per process, started on first use (and again in a forked child), kept for the life
of the process so keep-alive connections to the Management API outlive a single send.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading

import aiohttp

from ..__about__ import __version__

USER_AGENT = f"apigw-ws/{__version__} aiohttp/{aiohttp.__version__}"


class SendingLoop:
    """An event loop running in a daemon thread, and the pooled session it sends with."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="apigw_ws-send-loop", daemon=True
        )
        self.thread.start()
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """Return the loop's session (call on the loop): one keep-alive pool per host."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # Unbounded here: each fan-out bounds its own requests in flight.
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                headers={"User-Agent": USER_AGENT},
                auto_decompress=False,
            )
        return self._session

    def stop(self) -> None:
        async def close() -> None:
            if self._session is not None:
                await self._session.close()

        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        self.loop.close()


_lock = threading.Lock()
_current: SendingLoop | None = None


def sending_loop() -> SendingLoop:
    """Return this process's sending loop, started on first use (and again after a fork)."""
    global _current
    with _lock:
        if _current is None or _current.pid != os.getpid():
            _current = SendingLoop()
        return _current


@atexit.register
def shutdown() -> None:
    """Close the pooled connections and stop the loop (at exit; tests may call it)."""
    global _current
    with _lock:
        current, _current = _current, None
    if current is not None and current.pid == os.getpid():
        current.stop()
