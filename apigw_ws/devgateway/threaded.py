"""Run a ``DevGateway`` on its own event loop thread, for synchronous tests and benchmarks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .config import GatewayConfig
from .server import DevGateway


@contextmanager
def run_in_thread(config: GatewayConfig | None = None, **options: Any) -> Iterator[DevGateway]:
    """Start a gateway in a background thread; stop it (sockets closed, ``$disconnect``
    posted) when the ``with`` block ends.

    ``options`` are ``GatewayConfig`` fields; ``port=0`` picks a free port::

        with run_in_thread(target=live_server.url + "/ws/", port=0) as gateway:
            settings.APIGW_WS = {..., "ENDPOINT_URL": gateway.endpoint_url}
    """
    gateway = DevGateway(config if config is not None else GatewayConfig(**options))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="apigw_ws-devgateway", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(gateway.start(), loop).result(timeout=30)
        yield gateway
    finally:
        timeout = gateway.config.integration_timeout + 2 * gateway.config.close_timeout + 5
        try:
            asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(timeout=timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not thread.is_alive():
                loop.close()
