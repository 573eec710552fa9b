"""What a send did: the report every fan-out returns."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Failure:
    """One connection the message did not reach, and why.

    ``status`` is the Management API's HTTP status, or ``None`` when no answer came
    (a timeout, a refused connection, a configuration problem found before sending).
    """

    connection_id: str
    error: str
    status: int | None = None


@attrs.define
class SendReport:
    """The outcome of one send or fan-out.

    ``sent`` counts the connections that got the message (a count, not a list, so a
    broadcast to 100,000 sessions stays small); ``gone`` are the ids answered 410;
    ``failed`` names every other connection the message did not reach; ``retried``
    counts the extra attempts made after throttling or server errors; ``duration`` is
    in seconds.
    """

    sent: int = 0
    gone: list[str] = attrs.field(factory=list)
    failed: list[Failure] = attrs.field(factory=list)
    retried: int = 0
    duration: float = 0.0

    @property
    def attempted(self) -> int:
        """Return how many connections the send was for."""
        return self.sent + len(self.gone) + len(self.failed)

    @property
    def ok(self) -> bool:
        """Return whether nothing failed (gone connections are not failures)."""
        return not self.failed

    def merge(self, other: SendReport) -> SendReport:
        """Add ``other``'s counts to this report (for chunked fan-outs) and return it."""
        self.sent += other.sent
        self.gone.extend(other.gone)
        self.failed.extend(other.failed)
        self.retried += other.retried
        self.duration += other.duration
        return self

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (``ws_send --json``, task results)."""
        return {
            "sent": self.sent,
            "gone": list(self.gone),
            "failed": [attrs.asdict(f) for f in self.failed],
            "retried": self.retried,
            "duration": round(self.duration, 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SendReport:
        """Return the report ``as_dict()`` wrote."""
        return cls(
            sent=data["sent"],
            gone=list(data["gone"]),
            failed=[Failure(**f) for f in data["failed"]],
            retried=data["retried"],
            duration=data["duration"],
        )

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {len(self.gone)} gone, {len(self.failed)} failed,"
            f" {self.retried} retried in {self.duration:.3f}s"
        )
