"""The one sender: every unicast, multicast and broadcast goes through ``Sender``.

A fan-out encodes its message once, then posts it to every recipient in parallel. Two
transports carry the posts, with the same behaviour and the same report:

- ``"boto3"``: a pooled boto3 Management API client per endpoint, driven by a pool of
  threads. Each call costs about a millisecond of CPU under the GIL, which caps a
  process at roughly a thousand messages a second whatever the concurrency.
- ``"aiohttp"`` (``apigw_ws.async_transport``): requests signed with botocore's SigV4
  signer and sent by one pooled aiohttp session on a background event loop; several
  times cheaper per message. Needs aiohttp (the ``fast`` extra).

``"auto"`` sends fan-outs with aiohttp when it is installed and single messages with
boto3. The default is ``"boto3"``, because test doubles (moto, botocore's ``Stubber``,
``apigw_ws.testing``'s outbox) intercept botocore only: a transport that bypassed them
would send a test's messages to the real endpoint. The ``APIGW_WS_SEND_TRANSPORT``
environment variable sets the default (``auto`` in production is the fast choice).

Recipients are consumed lazily with a bounded number in flight, so memory stays flat
however many there are. One recipient's failure never stops the others; the
``SendReport`` says what happened to each. Retries are the sender's own (botocore's are
off): 429, 5xx and connections that could not be opened are retried with capped
exponential backoff and full jitter; a post whose request may have reached the gateway
(a read timeout) is never re-posted, so nobody gets a message twice.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from .delivery import Fail, Progress, Retry, Tally, gave_up, judge, timed_out
from .report import SendReport
from .sending import CONNECT_TIMEOUT, DEFAULT_MAX_BYTES, READ_TIMEOUT, encode_message
from .sending import management_client as _management_client

__all__ = ["DEFAULT_CONCURRENCY", "TRANSPORTS", "Endpoint", "Progress", "Recipient", "Sender"]

DEFAULT_CONCURRENCY = 32
TRANSPORTS = ("auto", "aiohttp", "boto3")
TRANSPORT_ENV = "APIGW_WS_SEND_TRANSPORT"
#: What test doubles intercept; ``APIGW_WS_SEND_TRANSPORT=auto`` opts into aiohttp.
DEFAULT_TRANSPORT = "boto3"


@attrs.frozen
class Endpoint:
    """Where a connection's Management API lives, and which credentials sign for it."""

    url: str
    region: str | None = None
    profile: str | None = None


@attrs.frozen(slots=True)
class Recipient:
    """One connection to send to; ``endpoint`` is ``None`` when none could be worked out."""

    connection_id: str
    endpoint: Endpoint | None


@attrs.frozen
class Operation:
    """One Management API call: its HTTP method, body and boto3 method."""

    method: str
    client_method: str
    payload: bytes = b""
    #: A repeated call does no harm (a read timeout may be retried).
    idempotent: bool = True

    def boto3_kwargs(self, connection_id: str) -> dict[str, Any]:
        if self.method == "POST":
            return {"ConnectionId": connection_id, "Data": self.payload}
        return {"ConnectionId": connection_id}


CHECK = Operation("GET", "get_connection")
CLOSE = Operation("DELETE", "delete_connection")


@functools.cache
def aiohttp_available() -> bool:
    return importlib.util.find_spec("aiohttp") is not None


class Sender:
    """Send to many connections in parallel and report on each.

    ``concurrency`` is the number of requests in flight (and the size of each boto3
    client's connection pool); ``max_attempts`` bounds the tries per recipient; the
    backoff before retry ``n`` is uniform in ``[0, min(max_delay, base_delay * 2**n)]``.
    ``transport`` is ``"auto"``, ``"aiohttp"`` or ``"boto3"`` (see the module's doc);
    ``None`` reads ``APIGW_WS_SEND_TRANSPORT``, else ``"boto3"``.
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
    ) -> None:
        if concurrency < 1 or max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")
        transport = transport or os.environ.get(TRANSPORT_ENV) or DEFAULT_TRANSPORT
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        if transport == "aiohttp" and not aiohttp_available():
            raise ValueError("the aiohttp transport needs aiohttp: pip install 'apigw-ws[fast]'")
        self.transport = transport
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        # Not for security: jitter only spreads retries out.
        self._random = random.Random()  # noqa: S311

    # -- the three Management API calls ------------------------------------------------

    def send(
        self, recipients: Iterable[Recipient], data: Any, *, progress: Progress | None = None
    ) -> SendReport:
        """Post ``data`` to every recipient; encode and size-check it once, first.

        Raises ``MessageNotSerializable`` or ``MessageTooLarge`` before any network call.
        ``progress(n)`` is called (from a sending thread) as recipients are done.
        """
        payload = encode_message(data, max_bytes=self.max_bytes)
        post = Operation("POST", "post_to_connection", payload, idempotent=False)
        return self._run(recipients, post, progress)

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
        return _management_client(
            endpoint.url,
            endpoint.region,
            endpoint.profile,
            pool=max(10, self.concurrency),
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt + 1`` (full jitter, capped)."""
        return self._random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    # -- the fan-out -------------------------------------------------------------------

    def _run(
        self, recipients: Iterable[Recipient], operation: Operation, progress: Progress | None
    ) -> SendReport:
        started = time.perf_counter()
        tally = Tally(progress=progress)
        iterator = iter(recipients)
        first = next(iterator, None)
        if first is not None:
            second = next(iterator, None)
            everyone = _chain(first, second, iterator)
            if self._uses_aiohttp(fan_out=second is not None):
                from .async_transport import fan_out

                fan_out(self, everyone, operation, tally)
            elif second is None:  # unicast: no thread pool
                self._deliver(first, operation, tally)
            else:
                self._fan_out_threads(everyone, operation, tally)
        tally.report.duration = time.perf_counter() - started
        return tally.report

    def _uses_aiohttp(self, *, fan_out: bool) -> bool:
        if self.transport == "auto":
            return fan_out and aiohttp_available()
        return self.transport == "aiohttp"

    def _fan_out_threads(
        self, recipients: Iterable[Recipient], operation: Operation, tally: Tally
    ) -> None:
        # Bounded: at most 2 x concurrency recipients are held at any time.
        slots = threading.BoundedSemaphore(2 * self.concurrency)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="apigw_ws-send") as pool:
            for recipient in recipients:
                slots.acquire()
                future = pool.submit(self._deliver, recipient, operation, tally)
                future.add_done_callback(_releaser(slots))

    def _deliver(self, recipient: Recipient, operation: Operation, tally: Tally) -> None:
        retried = 0
        try:
            endpoint = tally.endpoint_of(recipient)
            client = self._client_or_fail(endpoint)
            for attempt in range(self.max_attempts):
                try:
                    _attempt(client, recipient.connection_id, operation)
                    break
                except Retry as retry:
                    if attempt + 1 == self.max_attempts:
                        raise gave_up(retry, self.max_attempts) from None
                    retried += 1
                    time.sleep(self.backoff(attempt))
        except Exception as exc:
            tally.settle(recipient, exc, retried)
        else:
            tally.sent(recipient, retried)

    def _client_or_fail(self, endpoint: Endpoint) -> Any:
        from botocore.exceptions import BotoCoreError

        try:
            return self.client(endpoint)
        except (BotoCoreError, ValueError) as exc:  # no region, unknown profile, bad URL
            raise Fail(
                f"cannot make a Management API client for {endpoint.url}: {exc}",
                None,
                endpoint_broken=True,
            ) from None


def _attempt(client: Any, cid: str, operation: Operation) -> None:
    """Make one boto3 call; raise ``Gone``, ``Retry`` or ``Fail`` unless it succeeded."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    try:
        getattr(client, operation.client_method)(**operation.boto3_kwargs(cid))
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code", "")
        judge(status, code, str(exc), client.meta.endpoint_url)
    except ReadTimeoutError as exc:
        raise timed_out(str(exc), idempotent=operation.idempotent) from None
    except (ConnectTimeoutError, EndpointConnectionError) as exc:  # nothing was sent
        raise Retry(f"could not connect: {exc}", None) from None
    except NoCredentialsError as exc:
        raise Fail(f"{exc}: configure AWS credentials", None, endpoint_broken=True) from None
    except BotoCoreError as exc:
        raise Fail(f"{type(exc).__name__}: {exc}", None) from None


def _chain(
    first: Recipient, second: Recipient | None, rest: Iterator[Recipient]
) -> Iterator[Recipient]:
    yield first
    if second is not None:
        yield second
        yield from rest


def _releaser(slots: threading.BoundedSemaphore) -> Callable[[Future[None]], None]:
    def release(_future: Future[None]) -> None:
        slots.release()

    return release
