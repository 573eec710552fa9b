"""The boto3 transport: pooled ``apigatewaymanagementapi`` clients driven by threads.

Selected with ``SEND_TRANSPORT = "boto3"``, for projects whose tests intercept botocore
(moto, botocore's ``Stubber``). Each call costs about a millisecond of CPU under the GIL,
which caps a process near a thousand messages a second whatever the concurrency.

One client per (endpoint, region, profile, pool size), made once and reused: clients are
thread-safe, but making one costs tens of milliseconds and megabytes, so it is made by
one thread while the others wait. Every client asks ``apigw_ws.sending.intercept``
before sending, so the test outbox answers it as it answers the aiohttp transport.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from . import intercept
from .cache import made_once
from .delivery import Delivery, run_blocking
from .options import SendOptions
from .outcome import Fail, Retry, judge, misconfigured, timed_out, unreachable
from .tally import Tally
from .types import Endpoint, Operation, Recipient

#: botocore's defaults (60 s each, with retries) would hold a request thread for minutes.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0


def endpoint_url(*, api_id: str, stage: str, region: str) -> str:
    """Return the Management API endpoint of a deployed stage on AWS."""
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"


@made_once(maxsize=64)
def management_client(
    endpoint: str,
    region: str | None,
    profile: str | None = None,
    *,
    pool: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Any:
    """Return the shared Management API client of ``endpoint`` with ``pool`` connections."""
    import boto3
    from botocore.config import Config

    # A session of its own: boto3 sessions are not thread-safe while they build clients.
    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=pool,
        # The sender retries itself: it counts retries, and never re-posts a message
        # whose request may already have reached the gateway.
        retries={"total_max_attempts": 1},
    )
    client = session.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)
    client.meta.events.register("before-send.apigatewaymanagementapi", _answer_intercepted)
    return client


def _answer_intercepted(request: Any, **_kwargs: Any) -> Any:
    """Let the installed responder answer instead of the network (``None``: send)."""
    responder = intercept.current()
    if responder is None:
        return None
    from botocore.awsrequest import AWSResponse

    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode()
    answer = responder(request.method, request.url, body or b"")
    return AWSResponse(request.url, answer.status, dict(answer.headers), _Raw(answer.body))


class _Raw:
    """The body of an intercepted answer, in the shape botocore reads it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self.body


def post_to_connection(client: Any, connection_id: str, payload: bytes) -> None:
    """Post already encoded ``payload`` to one connection."""
    client.post_to_connection(ConnectionId=connection_id, Data=payload)


class Boto3Transport:
    """Runs one operation for many recipients on a pool of threads."""

    name = "boto3"

    def __init__(self, sender: SendOptions) -> None:
        self.sender = sender

    def client(self, endpoint: Endpoint) -> Any:
        """Return the pooled boto3 Management API client of ``endpoint``."""
        sender = self.sender
        return management_client(
            endpoint.url,
            endpoint.region,
            endpoint.profile,
            pool=max(10, sender.concurrency),
            connect_timeout=sender.connect_timeout,
            read_timeout=sender.read_timeout,
        )

    def run(self, recipients: Iterable[Recipient], operation: Operation, tally: Tally) -> None:
        deliveries = _Deliveries(self, operation, tally)
        iterator = iter(recipients)
        first = next(iterator, None)
        second = next(iterator, None)
        if first is None:
            return
        if second is None:  # unicast: no thread pool
            deliveries.deliver_here(first)
            return
        # Bounded: at most 2 x concurrency recipients are held at any time.
        concurrency = self.sender.concurrency
        slots = threading.BoundedSemaphore(2 * concurrency)
        with ThreadPoolExecutor(concurrency, thread_name_prefix="apigw_ws-send") as pool:
            for recipient in _chain(first, second, iterator):
                slots.acquire()
                future = pool.submit(deliveries.deliver_here, recipient)
                future.add_done_callback(_releaser(slots))

    def _make_client(self, endpoint: Endpoint) -> Any:
        from botocore.exceptions import BotoCoreError

        try:
            return self.client(endpoint)
        except (BotoCoreError, ValueError) as exc:  # no region, unknown profile, bad URL
            raise misconfigured(endpoint.url, f"no Management API client: {exc}") from None


class _Deliveries(Delivery):
    """One fan-out's deliveries, each on the thread that calls ``deliver_here``."""

    def __init__(self, transport: Boto3Transport, operation: Operation, tally: Tally) -> None:
        self.transport, self.sender = transport, transport.sender
        self.operation, self.tally = operation, tally

    def deliver_here(self, recipient: Recipient) -> None:
        """Deliver to ``recipient`` on this thread: the boto3 calls and pauses block it."""
        run_blocking(self.deliver(recipient))

    # -- the I/O of ``Delivery.deliver``: blocking, so its awaits never suspend ---------

    def _make(self, endpoint: Endpoint) -> Any:
        return self.transport._make_client(endpoint)

    def _address(self, endpoint: Endpoint, recipient: Recipient) -> str:
        return recipient.connection_id

    async def _attempt(self, made: Any, address: str) -> None:
        _attempt(made, address, self.operation)  # the module's function: one boto3 call

    async def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _attempt(client: Any, cid: str, operation: Operation) -> None:
    """Make one boto3 call; raise ``Gone``, ``Retry`` or ``Fail`` unless it succeeded."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
        SSLError,
    )

    where = client.meta.endpoint_url
    try:
        getattr(client, operation.client_method)(**operation.boto3_kwargs(cid))
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code", "")
        judge(status, code, str(exc), where)
    except ReadTimeoutError as exc:
        raise timed_out(str(exc), idempotent=operation.idempotent) from None
    except ConnectTimeoutError as exc:  # nothing was sent
        raise Retry(f"could not connect: {exc}", None, timeout=True) from None
    except (EndpointConnectionError, SSLError) as exc:  # refused, DNS, TLS
        raise unreachable(where, str(exc)) from None
    except NoCredentialsError as exc:
        raise misconfigured(where, f"{exc}: configure AWS credentials") from None
    except BotoCoreError as exc:
        raise Fail(f"{type(exc).__name__}: {exc}", None) from None


def _chain(first: Recipient, second: Recipient, rest: Iterator[Recipient]) -> Iterator[Recipient]:
    yield first
    yield second
    yield from rest


def _releaser(slots: threading.BoundedSemaphore) -> Callable[[Future[None]], None]:
    def release(_future: Future[None]) -> None:
        slots.release()

    return release
