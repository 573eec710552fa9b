"""One fan-out's bookkeeping: the report being built, and the endpoints found broken.

Shared by the sending threads or the event loop of one fan-out. An endpoint is broken
for the rest of the fan-out when it answers 403, cannot be reached (refused, DNS, TLS),
has no region or credentials, or times out ``CONSECUTIVE_TIMEOUTS`` times in a row: its
remaining recipients are reported failed at once, with the reason, and never tried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import attrs

from .outcome import Fail, Gone, Retry
from .report import Failure, SendReport
from .types import Endpoint, Progress, Recipient

logger = logging.getLogger(__name__)

#: Timeouts in a row, with no answer in between, after which an endpoint is broken.
CONSECUTIVE_TIMEOUTS = 8


@attrs.define
class Tally:
    """The report being built, by worker threads or by the event loop."""

    report: SendReport = attrs.field(factory=SendReport)
    progress: Progress | None = None
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    broken: dict[Endpoint | None, str] = attrs.field(factory=dict)
    #: What the transport made for each endpoint, once per fan-out (a client, a signer).
    prepared: dict[Endpoint, Any] = attrs.field(factory=dict)
    _timeouts: dict[Endpoint, int] = attrs.field(factory=dict)
    _prepare_lock: threading.Lock = attrs.field(factory=threading.Lock)

    def endpoint_of(self, recipient: Recipient) -> Endpoint:
        """Return the recipient's endpoint; raise ``Fail`` if there is none to use."""
        endpoint = recipient.endpoint
        if endpoint is None:
            raise Fail("no Management API endpoint: the session has no usable gateway", None)
        self.check(endpoint)
        return endpoint

    def check(self, endpoint: Endpoint) -> None:
        """Raise ``Fail`` if ``endpoint`` was found broken during this fan-out."""
        reason = self.broken.get(endpoint)
        if reason is not None:
            raise Fail(reason, None)

    def prepare(self, endpoint: Endpoint, make: Callable[[Endpoint], Any]) -> Any:
        """Return ``make(endpoint)``, made once per fan-out; a ``Fail`` breaks the endpoint."""
        try:
            return self.prepared[endpoint]
        except KeyError:
            pass
        with self._prepare_lock:  # one maker; the others wait for its value or failure
            if endpoint in self.prepared:
                return self.prepared[endpoint]
            self.check(endpoint)
            try:
                value = make(endpoint)
            except Fail as exc:
                self._break(endpoint, exc.error)
                raise
            self.prepared[endpoint] = value
            return value

    def answered(self, endpoint: Endpoint) -> None:
        """Note that ``endpoint`` answered: its run of timeouts is over."""
        if endpoint in self._timeouts:
            with self.lock:
                self._timeouts.pop(endpoint, None)

    def retrying(self, endpoint: Endpoint, retry: Retry) -> None:
        """Note an attempt to be repeated: a timeout counts, any answer ends the run."""
        if retry.timeout:
            self.timed_out(endpoint, retry.error)
        else:
            self.answered(endpoint)

    def timed_out(self, endpoint: Endpoint, error: str) -> None:
        """Count a timeout; the ``CONSECUTIVE_TIMEOUTS``-th in a row breaks the endpoint."""
        with self.lock:
            count = self._timeouts[endpoint] = self._timeouts.get(endpoint, 0) + 1
        if count >= CONSECUTIVE_TIMEOUTS:
            self._break(endpoint, f"{count} timeouts in a row from {endpoint.url}: {error}")

    def _break(self, endpoint: Endpoint | None, reason: str) -> None:
        with self.lock:
            first = endpoint not in self.broken
            self.broken.setdefault(endpoint, reason)
        if first:
            logger.error("apigw_ws: endpoint broken for this fan-out: %s", reason)

    def sent(self, recipient: Recipient, retried: int) -> None:
        with self.lock:
            self.report.retried += retried
            self.report.sent += 1
        if self.progress is not None:
            self.progress(1)

    def settle(self, recipient: Recipient, exc: BaseException, retried: int) -> None:
        """Record a recipient whose delivery ended with ``exc``."""
        cid = recipient.connection_id
        if isinstance(exc, Fail):
            if exc.endpoint_broken:
                self._break(recipient.endpoint, exc.error)
            elif exc.timeout and recipient.endpoint is not None:
                self.timed_out(recipient.endpoint, exc.error)
        with self.lock:
            self.report.retried += retried
            if isinstance(exc, Gone):
                self.report.gone.append(cid)
            elif isinstance(exc, Fail):
                self.report.failed.append(Failure(cid, exc.error, exc.status))
            else:  # one recipient's surprise must not stop the fan-out
                logger.error("apigw_ws: unexpected error sending to %s", cid, exc_info=exc)
                self.report.failed.append(Failure(cid, f"{type(exc).__name__}: {exc}"))
        if self.progress is not None:
            self.progress(1)
