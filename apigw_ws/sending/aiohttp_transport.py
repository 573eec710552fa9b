"""The default transport: Management API calls signed with SigV4, sent from an event loop.

boto3 spends about a millisecond of CPU on each call (building, signing, parsing), and
threads cannot share that CPU. This transport builds the Management API's requests
itself (``POST``, ``GET`` or ``DELETE`` on ``{endpoint}/@connections/{id}``, the message
as the raw body), signs them (``apigw_ws.sending.signing``) and sends them from the
process's sending loop (``apigw_ws.sending.loop``) through its pooled aiohttp session.

The caller's thread consumes the recipients (a Django queryset stays on its thread's
database connection) and hands them to the loop a chunk at a time: one wake-up of the
loop per chunk, never one per recipient. While the loop sends, the caller reads the next
chunk, and no further: at most ``QUEUED_CHUNKS`` chunks wait, so memory stays flat
however many recipients there are. On the loop, ``concurrency`` workers take recipients
from the queued chunks, so that many requests are in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from . import intercept
from .delivery import Delivery
from .loop import SendingLoop, sending_loop
from .options import SendOptions
from .outcome import Fail, Retry, connect_timed_out, judge, misconfigured, timed_out, unreachable
from .signing import ManagementSigner, management_signer
from .tally import Tally
from .types import Endpoint, Operation, Recipient

#: Recipients handed to the loop at a time, and how many such chunks may wait there.
CHUNK = 500
QUEUED_CHUNKS = 2


def connection_url(endpoint_url: str, connection_id: str) -> str:
    """Return ``{endpoint}/@connections/{id}``, the id percent-encoded as boto3 does."""
    return f"{endpoint_url.rstrip('/')}/@connections/{quote(connection_id, safe='-_.~')}"


class AiohttpTransport:
    """Runs one operation for many recipients on the sending loop."""

    name = "aiohttp"

    def __init__(self, sender: SendOptions) -> None:
        self.sender = sender

    def run(self, recipients: Iterable[Recipient], operation: Operation, tally: Tally) -> None:
        loop = sending_loop()
        if threading.current_thread() is loop.thread:
            raise RuntimeError("cannot send from the sending loop itself (a progress callback?)")
        fan_out = _FanOut(loop, self.sender, operation, tally)
        try:
            iterator = iter(recipients)
            while chunk := list(itertools.islice(iterator, CHUNK)):
                self._prepare(chunk, tally)
                fan_out.feed(chunk)
        finally:
            fan_out.wait()

    @staticmethod
    def _prepare(chunk: list[Recipient], tally: Tally) -> None:
        # Credentials are resolved here, on the caller's thread: never on the loop.
        seen: Endpoint | None = None
        for recipient in chunk:
            endpoint = recipient.endpoint
            if endpoint is seen or endpoint is None:
                continue
            seen = endpoint
            if endpoint not in tally.prepared and endpoint not in tally.broken:
                # A failure breaks the endpoint: its recipients will say why.
                with contextlib.suppress(Fail):
                    tally.prepare(endpoint, _make_signer)


def _make_signer(endpoint: Endpoint) -> ManagementSigner:
    from botocore.exceptions import BotoCoreError

    try:
        return management_signer(endpoint.url, endpoint.region, endpoint.profile)
    except BotoCoreError as exc:  # no region, no credentials, unknown profile
        raise misconfigured(endpoint.url, f"cannot sign Management API requests: {exc}") from None


class _FanOut(Delivery):
    """One fan-out's deliveries on the loop: ``concurrency`` workers over queued chunks."""

    def __init__(
        self, loop: SendingLoop, sender: SendOptions, operation: Operation, tally: Tally
    ) -> None:
        self.loop, self.sender, self.operation, self.tally = loop, sender, operation, tally
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=sender.connect_timeout, sock_read=sender.read_timeout
        )
        self.room = threading.Semaphore(QUEUED_CHUNKS)  # the caller waits for room
        self.done = Future()  # type: Future[None]
        # Touched on the loop only:
        self.chunks: deque[Iterator[Recipient]] = deque()
        self.more = asyncio.Event()
        self.fed = 0
        self.workers = 0
        self.tasks: set[asyncio.Future[None]] = set()
        self.ending = False
        self.error: BaseException | None = None

    # -- the caller's side -------------------------------------------------------------

    def feed(self, chunk: list[Recipient]) -> None:
        """Queue ``chunk`` for the loop once fewer than ``QUEUED_CHUNKS`` wait there."""
        self.room.acquire()
        self.loop.loop.call_soon_threadsafe(self._accept, chunk)

    def wait(self) -> None:
        """Say no more chunks come; return once every delivery is done."""
        self.loop.loop.call_soon_threadsafe(self._end)
        self.done.result()

    # -- the loop's side ---------------------------------------------------------------

    def _accept(self, chunk: list[Recipient]) -> None:
        self.chunks.append(iter(chunk))
        self.fed += len(chunk)
        wanted = min(self.sender.concurrency, self.fed)
        while self.workers < wanted:
            self.workers += 1
            task = asyncio.ensure_future(self._work())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        self.more.set()

    def _end(self) -> None:
        self.ending = True
        self.more.set()
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self.ending and self.workers == 0 and not self.done.done():
            if self.error is not None:
                self.done.set_exception(self.error)
            else:
                self.done.set_result(None)

    def _next(self) -> Recipient | None:
        chunks = self.chunks
        while chunks:
            recipient = next(chunks[0], None)
            if recipient is not None:
                return recipient
            chunks.popleft()
            self.room.release()
        return None

    async def _work(self) -> None:
        try:
            while True:
                recipient = self._next()
                if recipient is None:
                    if self.ending:
                        return
                    self.more.clear()
                    await self.more.wait()
                    continue
                await self.deliver(recipient)
        except BaseException as exc:  # a progress callback that raised, a cancellation
            self.error = self.error or exc
            self.ending = True
            while self._next() is not None:  # let the caller's thread go
                pass
        finally:
            self.workers -= 1
            self._finish_if_done()

    # -- the I/O of ``Delivery.deliver`` -----------------------------------------------

    _sleep = staticmethod(asyncio.sleep)

    def _make(self, endpoint: Endpoint) -> ManagementSigner:
        return _make_signer(endpoint)

    def _address(self, endpoint: Endpoint, recipient: Recipient) -> str:
        return connection_url(endpoint.url, recipient.connection_id)

    async def _attempt(self, signer: ManagementSigner, url: str) -> None:
        """Make one call; raise ``Gone``, ``Retry`` or ``Fail`` unless it succeeded."""
        operation = self.operation
        headers = signer.sign(operation.method, url, operation.payload)
        responder = intercept.current()
        if responder is not None:
            answer = responder(operation.method, url, operation.payload)
            status, body = answer.status, answer.body
            error_type = _header(answer.headers, "x-amzn-ErrorType")
        else:
            status, error_type, body = await self._exchange(url, headers)
        if status < 300:
            return
        code, message = error_of(error_type, body)
        judge(status, code, message, url.rsplit("/@connections/", 1)[0])

    async def _exchange(self, url: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        operation = self.operation
        where = url.rsplit("/@connections/", 1)[0]
        try:
            async with self.loop.session().request(
                operation.method,
                URL(url, encoded=True),  # sent exactly as signed
                data=operation.payload or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            ) as response:
                if response.status < 300:
                    await response.release()
                    return response.status, "", b""
                body = await response.read()
                return response.status, response.headers.get("x-amzn-ErrorType", ""), body
        except aiohttp.ConnectionTimeoutError as exc:  # nothing was sent
            raise connect_timed_out(str(exc)) from None
        except (aiohttp.SocketTimeoutError, TimeoutError) as exc:
            raise timed_out(str(exc) or "no answer", idempotent=operation.idempotent) from None
        except aiohttp.ClientConnectorError as exc:  # refused, unreachable, DNS, TLS
            raise unreachable(where, str(exc)) from None
        except aiohttp.ClientConnectionError as exc:  # lost mid-request: it may have arrived
            if operation.idempotent:
                raise Retry(f"connection lost: {exc}", None) from None
            raise Fail(f"connection lost; the message may have arrived: {exc!r}", None) from None
        except aiohttp.ClientError as exc:
            raise Fail(f"{type(exc).__name__}: {exc}", None) from None


def _header(headers: Any, name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return str(value)
    return ""


def error_of(error_type: str, body: bytes) -> tuple[str, str]:
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
