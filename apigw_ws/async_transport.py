"""The aiohttp transport: Management API calls signed with SigV4, sent from an event loop.

boto3 spends about a millisecond of CPU on each call (building, signing, parsing), and
threads cannot share that CPU: a process tops out near a thousand messages a second. This
transport builds the Management API's requests itself (``POST``, ``GET`` or ``DELETE`` on
``{endpoint}/@connections/{id}``, the message as the raw body), signs them with botocore's
signer (``apigw_ws.sigv4``) and sends them from one event loop in a background thread,
through one pooled aiohttp session kept for the life of the process.

The caller's thread consumes the recipients (a Django queryset stays on its thread's
database connection) and hands each to the loop, waiting while ``concurrency`` requests
are in flight. Answers mean what they mean for the boto3 transport (``apigw_ws.delivery``).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from .__about__ import __version__
from .delivery import Fail, Retry, Tally, gave_up, judge, timed_out
from .sigv4 import ManagementSigner, management_signer

if TYPE_CHECKING:
    from .sender import Endpoint, Operation, Recipient, Sender

USER_AGENT = f"apigw-ws/{__version__} aiohttp/{aiohttp.__version__}"


class _Background:
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
                # Unbounded here: each Sender bounds its own requests in flight.
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
_background: _Background | None = None


def background() -> _Background:
    """Return this process's sending loop, started on first use (and again after a fork)."""
    global _background
    with _lock:
        if _background is None or _background.pid != os.getpid():
            _background = _Background()
        return _background


@atexit.register
def shutdown() -> None:
    """Close the pooled connections and stop the loop (at exit; tests may call it)."""
    global _background
    with _lock:
        current, _background = _background, None
    if current is not None and current.pid == os.getpid():
        current.stop()


def fan_out(
    sender: Sender, recipients: Iterable[Recipient], operation: Operation, tally: Tally
) -> None:
    """Make ``operation`` for every recipient, ``sender.concurrency`` at a time; wait."""
    bg = background()
    if threading.current_thread() is bg.thread:
        raise RuntimeError("cannot send from the sending loop itself (a progress callback?)")
    run = _FanOut(bg, sender, operation, tally)
    # Recipients cross to the loop a batch at a time (one wake-up per batch, not per
    # message); the next batch is read while the previous one waits for free slots, and
    # no more: at most about three batches of recipients are held.
    started: Future[None] | None = None
    try:
        for batch in _batched(recipients, sender.concurrency):
            submitted = asyncio.run_coroutine_threadsafe(run.start(batch), bg.loop)
            if started is not None:
                started.result()
            started = submitted
    finally:
        if started is not None:
            started.result()
        asyncio.run_coroutine_threadsafe(run.finish(), bg.loop).result()


class _FanOut:
    """One fan-out's deliveries on the loop: at most ``concurrency`` in flight."""

    def __init__(self, bg: _Background, sender: Sender, operation: Operation, tally: Tally):
        self.bg, self.sender, self.operation, self.tally = bg, sender, operation, tally
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=sender.connect_timeout, sock_read=sender.read_timeout
        )
        self.slots: asyncio.Semaphore | None = None
        self.running: set[asyncio.Task[None]] = set()

    async def start(self, batch: Iterable[Recipient]) -> None:
        """Start a delivery for each recipient of ``batch`` as slots free up."""
        if self.slots is None:
            self.slots = asyncio.Semaphore(self.sender.concurrency)
        for recipient in batch:
            await self.slots.acquire()
            task = asyncio.create_task(self._deliver(recipient))
            self.running.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        assert self.slots is not None
        self.slots.release()

    async def finish(self) -> None:
        """Return once every delivery started is done."""
        while self.running:
            await asyncio.wait(set(self.running))

    async def _deliver(self, recipient: Recipient) -> None:
        sender, operation, tally = self.sender, self.operation, self.tally
        retried = 0
        try:
            endpoint = tally.endpoint_of(recipient)
            signer = _signer_or_fail(endpoint)
            url = connection_url(endpoint.url, recipient.connection_id)
            for attempt in range(sender.max_attempts):
                try:
                    await _attempt(self.bg.session(), signer, url, operation, self.timeout)
                    break
                except Retry as retry:
                    if attempt + 1 == sender.max_attempts:
                        raise gave_up(retry, sender.max_attempts) from None
                    retried += 1
                    await asyncio.sleep(sender.backoff(attempt))
        except Exception as exc:
            tally.settle(recipient, exc, retried)
        else:
            tally.sent(recipient, retried)


def _batched(items: Iterable[Recipient], size: int) -> Iterator[tuple[Recipient, ...]]:
    iterator = iter(items)
    while batch := tuple(itertools.islice(iterator, size)):
        yield batch


def connection_url(endpoint_url: str, connection_id: str) -> str:
    """Return ``{endpoint}/@connections/{id}``, the id percent-encoded as boto3 does."""
    from botocore.utils import percent_encode

    return f"{endpoint_url.rstrip('/')}/@connections/{percent_encode(connection_id)}"


def _signer_or_fail(endpoint: Endpoint) -> ManagementSigner:
    from botocore.exceptions import BotoCoreError

    try:
        return management_signer(endpoint.url, endpoint.region, endpoint.profile)
    except BotoCoreError as exc:  # no region, no credentials, unknown profile
        raise Fail(
            f"cannot sign Management API requests for {endpoint.url}: {exc}",
            None,
            endpoint_broken=True,
        ) from None


async def _attempt(
    session: aiohttp.ClientSession,
    signer: ManagementSigner,
    url: str,
    operation: Operation,
    timeout: aiohttp.ClientTimeout,
) -> None:
    """Make one call; raise ``Gone``, ``Retry`` or ``Fail`` unless it succeeded."""
    headers = signer.sign(operation.method, url, operation.payload)
    try:
        async with session.request(
            operation.method,
            URL(url, encoded=True),  # sent exactly as signed
            data=operation.payload or None,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            body = await response.read()
            status = response.status
            error_type = response.headers.get("x-amzn-ErrorType", "")
    except aiohttp.ConnectionTimeoutError as exc:  # nothing was sent
        raise Retry(f"could not connect: timed out ({exc})", None) from None
    except (aiohttp.SocketTimeoutError, TimeoutError) as exc:
        raise timed_out(str(exc) or "no answer", idempotent=operation.idempotent) from None
    except aiohttp.ClientConnectorError as exc:  # refused, unreachable, DNS: nothing was sent
        raise Retry(f"could not connect: {exc}", None) from None
    except aiohttp.ClientConnectionError as exc:  # lost mid-request: it may have arrived
        if operation.idempotent:
            raise Retry(f"connection lost: {exc}", None) from None
        raise Fail(f"connection lost; the message may have arrived: {exc!r}", None) from None
    except aiohttp.ClientError as exc:
        raise Fail(f"{type(exc).__name__}: {exc}", None) from None
    if status < 300:
        return
    code, message = _error_of(error_type, body)
    judge(status, code, message, url.rsplit("/@connections/", 1)[0])


def _error_of(error_type: str, body: bytes) -> tuple[str, str]:
    """Return the AWS error code and message of an error answer, as botocore reads them."""
    message, code = "", error_type.split(":")[0]
    try:
        data: Any = json.loads(body) if body else {}
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = str(data.get("message") or data.get("Message") or "")
        code = code or str(data.get("__type") or data.get("code") or "").split("#")[-1]
    elif body:
        message = body[:200].decode(errors="replace")
    return code, message
