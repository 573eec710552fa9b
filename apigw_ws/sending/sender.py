"""The one sender: every unicast, multicast and broadcast goes through ``Sender``.

A fan-out encodes its message once, then posts it to every recipient in parallel through
a transport; both give the same behaviour and the same report:

- ``"aiohttp"``, the default (``apigw_ws.sending.aiohttp_transport``): requests signed
  with SigV4 by ``apigw_ws.sending.signing`` and sent from the process's sending loop;
  a fraction of boto3's CPU per message.
- ``"boto3"`` (``apigw_ws.sending.boto3_transport``): pooled boto3 clients driven by
  threads, for tests that intercept botocore (moto, ``Stubber``).

In tests neither reaches the network: the bundled pytest plugin answers every
Management API request from an in-memory outbox (``apigw_ws.sending.intercept``).

Recipients are consumed lazily with a bounded number in flight, so memory stays flat
however many there are. One recipient's failure never stops the others; the
``SendReport`` says what happened to each. 429 and 5xx are retried with backoff
(``apigw_ws.sending.retry``); a post whose request may have reached the gateway (a read
timeout) is never re-posted; a broken endpoint fails its remaining recipients at once
(``apigw_ws.sending.tally``). All sends of the process share a ceiling on requests per
second per region (``apigw_ws.sending.throttle``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from .aiohttp_transport import AiohttpTransport
from .boto3_transport import CONNECT_TIMEOUT, READ_TIMEOUT, Boto3Transport
from .encoding import DEFAULT_MAX_BYTES, encode_message
from .report import SendReport
from .retry import RetryPolicy
from .tally import Tally
from .throttle import DEFAULT_RATE_LIMIT, RateLimit, rate_limit
from .types import CHECK, CLOSE, Endpoint, Operation, Progress, Recipient, post

__all__ = ["DEFAULT_CONCURRENCY", "TRANSPORTS", "Endpoint", "Progress", "Recipient", "Sender"]

#: Requests in flight per fan-out. Measured (benchmarks/fanout.py): at 20 ms per call
#: throughput keeps rising up to 128 and no further on two cores.
DEFAULT_CONCURRENCY = 128
TRANSPORTS = ("aiohttp", "boto3")
#: ``"auto"`` (aiohttp for fan-outs) was the opt-in of 0.x; it now means the default.
ALIASES = {"auto": "aiohttp"}
TRANSPORT_ENV = "APIGW_WS_SEND_TRANSPORT"
DEFAULT_TRANSPORT = "aiohttp"
_TRANSPORT_TYPES = {"aiohttp": AiohttpTransport, "boto3": Boto3Transport}


class Sender:
    """Send to many connections in parallel and report on each.

    ``concurrency`` is the number of requests in flight (and the size of each boto3
    client's connection pool); ``max_attempts`` bounds the tries per recipient; the
    backoff before retry ``n`` is uniform in ``[0, min(max_delay, base_delay * 2**n)]``.
    ``transport`` is ``"aiohttp"`` or ``"boto3"``; ``None`` reads
    ``APIGW_WS_SEND_TRANSPORT``, else ``"aiohttp"``. ``rate_limit`` caps the requests a
    second of all senders of the process to one region (``None`` or 0: no cap).
    """

    def __init__(
        self,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_attempts: int = 5,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: str | None = None,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
    ) -> None:
        if concurrency < 1 or max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")
        transport = transport or os.environ.get(TRANSPORT_ENV) or DEFAULT_TRANSPORT
        transport = ALIASES.get(transport, transport)
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        if rate_limit is not None and rate_limit < 0:
            raise ValueError("rate_limit must be positive, or None for no limit")
        self.transport = transport
        self.concurrency = concurrency
        self.retry = RetryPolicy(max_attempts, base_delay, max_delay)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.rate_limit = rate_limit
        self._limits: dict[Endpoint, RateLimit | None] = {}
        self._transport = _TRANSPORT_TYPES[transport](self)

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts

    # -- the three Management API calls ------------------------------------------------

    def send(
        self, recipients: Iterable[Recipient], data: Any, *, progress: Progress | None = None
    ) -> SendReport:
        """Post ``data`` to every recipient; encode and size-check it once, first.

        Raises ``MessageNotSerializable`` or ``MessageTooLarge`` before any network call.
        ``progress(n)`` is called (from a sending thread or the loop) as recipients are done.
        """
        payload = encode_message(data, max_bytes=self.max_bytes)
        return self._run(recipients, post(payload), progress)

    def check(
        self, recipients: Iterable[Recipient], *, progress: Progress | None = None
    ) -> SendReport:
        """Ask (``GetConnection``) whether each connection is still there.

        In the report, ``sent`` counts the live ones and ``gone`` names the others.
        """
        return self._run(recipients, CHECK, progress)

    def close(self, recipients: Iterable[Recipient]) -> SendReport:
        """Close each connection (``DeleteConnection``); ``sent`` counts the closed ones."""
        return self._run(recipients, CLOSE, None)

    def client(self, endpoint: Endpoint) -> Any:
        """Return the pooled boto3 Management API client of ``endpoint``."""
        return Boto3Transport(self).client(endpoint)

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt + 1`` (full jitter, capped)."""
        return self.retry.backoff(attempt)

    # -- shared by the transports ------------------------------------------------------

    def slot_delay(self, endpoint: Endpoint) -> float:
        """Take a request slot under the rate limit; return the seconds to wait for it."""
        try:
            limit = self._limits[endpoint]
        except KeyError:
            limit = self._limits[endpoint] = rate_limit(
                self.rate_limit, endpoint.region, endpoint.profile
            )
        return 0.0 if limit is None else limit.reserve()

    def wait_for_slot(self, endpoint: Endpoint) -> None:
        """Block until a request slot under the rate limit is free."""
        pause = self.slot_delay(endpoint)
        if pause:
            time.sleep(pause)

    def _run(
        self, recipients: Iterable[Recipient], operation: Operation, progress: Progress | None
    ) -> SendReport:
        started = time.perf_counter()
        tally = Tally(progress=progress)
        self._transport.run(recipients, operation, tally)
        tally.report.duration = time.perf_counter() - started
        return tally.report
