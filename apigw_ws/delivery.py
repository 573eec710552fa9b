"""What one Management API answer means for a recipient, shared by both transports.

Each transport turns its own errors into the exceptions below; ``judge`` decides what an
HTTP status means and ``Tally`` turns the outcome of each recipient into the report. The
rules: 410 is gone; 429, 5xx and connections that could not be opened are retried; 403
(or missing credentials) is a configuration error that stops the endpoint; everything
else fails that recipient only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from .errors import ManagementApiForbidden
from .report import Failure, SendReport

if TYPE_CHECKING:
    from .sender import Endpoint, Recipient

logger = logging.getLogger("apigw_ws.sender")

Progress = Callable[[int], object]


class Gone(Exception):
    """The connection is gone (410)."""


class Retry(Exception):
    """The attempt may be repeated: nothing reached the connection."""

    def __init__(self, error: str, status: int | None) -> None:
        super().__init__(error)
        self.error, self.status = error, status


class Fail(Exception):
    """The recipient is not served; ``endpoint_broken``: nor is anyone on its endpoint."""

    def __init__(self, error: str, status: int | None, *, endpoint_broken: bool = False) -> None:
        super().__init__(error)
        self.error, self.status, self.endpoint_broken = error, status, endpoint_broken


def judge(status: int | None, code: str, message: str, where: str) -> None:
    """Raise what an error answer from ``where`` means (``code`` is the AWS error type)."""
    if status == 410 or code == "GoneException":
        raise Gone()
    if status == 403 or code in ("ForbiddenException", "AccessDeniedException"):
        raise Fail(
            f"{code or 'Forbidden'} (403) from {where}: {ManagementApiForbidden.hint}",
            status,
            endpoint_broken=True,
        )
    if status == 429 or (status is not None and status >= 500):
        raise Retry(f"{code} ({status})", status)
    raise Fail(f"{code} ({status}): {message}", status)


def timed_out(detail: str, *, idempotent: bool) -> Exception:
    """Return what a read timeout means: only an idempotent call may be repeated."""
    if idempotent:
        return Retry(f"timed out: {detail}", None)
    # The post may have been delivered: trying again could deliver it twice.
    return Fail(f"timed out waiting for the answer; it may have arrived: {detail}", None)


def gave_up(retry: Retry, attempts: int) -> Fail:
    return Fail(f"{retry.error} (gave up after {attempts} attempts)", retry.status)


@attrs.define
class Tally:
    """The report being built, by worker threads or by the event loop."""

    report: SendReport = attrs.field(factory=SendReport)
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    # An endpoint that answered 403 (or has no credentials) fails the rest at once.
    broken: dict[Endpoint | None, str] = attrs.field(factory=dict)
    progress: Progress | None = None

    def endpoint_of(self, recipient: Recipient) -> Endpoint:
        """Return the recipient's endpoint; raise ``Fail`` if there is none to use."""
        if recipient.endpoint is None:
            raise Fail("no Management API endpoint: the session has no usable gateway", None)
        if recipient.endpoint in self.broken:
            raise Fail(self.broken[recipient.endpoint], None)
        return recipient.endpoint

    def sent(self, recipient: Recipient, retried: int) -> None:
        with self.lock:
            self.report.retried += retried
            self.report.sent += 1
        self._progressed()

    def settle(self, recipient: Recipient, exc: BaseException, retried: int) -> None:
        """Record a recipient whose delivery ended with ``exc``."""
        cid = recipient.connection_id
        if isinstance(exc, Fail) and exc.endpoint_broken:
            with self.lock:
                first = recipient.endpoint not in self.broken
                self.broken.setdefault(recipient.endpoint, exc.error)
            if first:
                logger.error("apigw_ws: %s", exc.error)
        with self.lock:
            self.report.retried += retried
            if isinstance(exc, Gone):
                self.report.gone.append(cid)
            elif isinstance(exc, Fail):
                self.report.failed.append(Failure(cid, exc.error, exc.status))
            else:  # one recipient's surprise must not stop the fan-out
                logger.error("apigw_ws: unexpected error sending to %s", cid, exc_info=exc)
                self.report.failed.append(Failure(cid, f"{type(exc).__name__}: {exc}"))
        self._progressed()

    def _progressed(self) -> None:
        if self.progress is not None:
            self.progress(1)
