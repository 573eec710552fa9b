"""What one Management API answer (or the lack of one) means for a recipient.

Each transport turns its own errors into the exceptions below, and ``judge`` decides what
an HTTP status means; the same rules for every transport:

- 410 is gone;
- 429 and 5xx from an endpoint that answers are retried (``Retry``);
- 403, missing credentials or region, and an endpoint that cannot be reached at all
  (connection refused, DNS, TLS) break the endpoint: the rest of its recipients fail at
  once with the same reason (``Fail(endpoint_broken=True)``);
- a timeout is retried only if the call is idempotent (a post may have arrived), and
  counts towards the endpoint's consecutive timeouts (``apigw_ws.sending.tally``);
- anything else fails that recipient only.
"""

from __future__ import annotations

from ..errors import ManagementApiForbidden


class Gone(Exception):
    """The connection is gone (410)."""


class Retry(Exception):
    """The attempt may be repeated: nothing reached the connection."""

    def __init__(self, error: str, status: int | None, *, timeout: bool = False) -> None:
        super().__init__(error)
        self.error, self.status, self.timeout = error, status, timeout


class Fail(Exception):
    """The recipient is not served; ``endpoint_broken``: nor is anyone on its endpoint."""

    def __init__(
        self,
        error: str,
        status: int | None,
        *,
        endpoint_broken: bool = False,
        timeout: bool = False,
    ) -> None:
        super().__init__(error)
        self.error, self.status = error, status
        self.endpoint_broken, self.timeout = endpoint_broken, timeout


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


def unreachable(where: str, detail: str) -> Fail:
    """Return the failure of an endpoint that cannot be reached (refused, DNS, TLS)."""
    return Fail(f"cannot reach {where}: {detail}", None, endpoint_broken=True)


def misconfigured(where: str, detail: str) -> Fail:
    """Return the failure of an endpoint nothing can be sent to (region, credentials)."""
    return Fail(f"cannot send to {where}: {detail}", None, endpoint_broken=True)


def timed_out(detail: str, *, idempotent: bool) -> Exception:
    """Return what a read timeout means: only an idempotent call may be repeated."""
    if idempotent:
        return Retry(f"timed out: {detail}", None, timeout=True)
    # The post may have been delivered: trying again could deliver it twice.
    return Fail(
        f"timed out waiting for the answer; it may have arrived: {detail}", None, timeout=True
    )


def connect_timed_out(detail: str) -> Retry:
    """Return what a connection that could not be opened in time means: nothing was sent."""
    return Retry(f"could not connect: timed out ({detail})", None, timeout=True)
