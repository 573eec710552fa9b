"""Message recovery: stamping channel messages, and what a resuming client is owed.

A message sent to a channel gets an ``id`` (the app's own ``id`` if it has one), the
channel's next ``seq`` and the ``channel`` name, and is kept in a bounded backlog (the
store of the ``apigw_ws_backlog_store`` hook). A client that reconnects sends
``{"handler": "resume", "last": {channel: seq}}``; it gets the messages after ``seq`` in
``apigw_ws.replay`` frames, in order, then one ``apigw_ws.resumed`` answer with the
channel's current ``seq`` and, if the backlog no longer reaches back that far, the
``gap``. Django-free: the stores live in the Django app.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from .sending import MessageNotSerializable

#: The ``type`` of a frame that carries replayed messages, and of the final answer.
REPLAY_TYPE = "apigw_ws.replay"
RESUMED_TYPE = "apigw_ws.resumed"
#: The handler name (route ``$default``) the JS client's resume message names.
RESUME_HANDLER = "resume"


#: The envelope field that carries a message's id, in channel sends and background sends.
ID_FIELD = "id"
#: The longest id, as text, a message may bring: what the backlog and fan-out records keep.
MAX_ID_LENGTH = 64


def new_message_id() -> str:
    """Return a fresh message id: 32 hex characters."""
    return uuid.uuid4().hex


def stamped(data: Mapping[str, Any], *, channel: str, seq: int, message_id: str) -> dict[str, Any]:
    """Return ``data`` with the envelope fields ``id``, ``seq`` and ``channel`` set."""
    return {**data, ID_FIELD: message_id, "seq": seq, "channel": channel}


def has_own_id(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` brings its own id: an ``id`` that is not ``None``, ``""`` or a bool."""
    given = data.get(ID_FIELD)
    return not (given is None or given == "" or isinstance(given, bool))


def message_id_of(data: Mapping[str, Any]) -> str:
    """Return the id ``data`` brings (its ``id``, see ``has_own_id``) or a new one, as text.

    The app's own id is the message's identity for deduplication: clients drop a second
    message with the same id. Raises ``MessageNotSerializable`` for one longer than
    ``MAX_ID_LENGTH`` characters as text (it is never cut short: two ids sharing a
    prefix would become one).
    """
    if not has_own_id(data):
        return new_message_id()
    message_id = str(data[ID_FIELD])
    if len(message_id) > MAX_ID_LENGTH:
        raise MessageNotSerializable(
            f"a message's {ID_FIELD!r} is at most {MAX_ID_LENGTH} characters as text,"
            f" not {len(message_id)}"
        )
    return message_id


@attrs.frozen
class Backlog:
    """What a store holds for one channel after a given sequence number.

    ``entries`` are ``(seq, text)`` pairs, oldest first, all after the asked-for
    sequence; ``last_seq`` is the channel's latest sequence number (0: never sent to).
    """

    last_seq: int
    entries: tuple[tuple[int, str], ...] = ()


@attrs.frozen
class Gap:
    """Sequence numbers ``first`` to ``last`` were sent but are no longer in the backlog."""

    first: int
    last: int

    def as_json(self) -> dict[str, int]:
        return {"from": self.first, "to": self.last}


@attrs.frozen
class ResumePlan:
    """What to send a client that saw up to ``after``: replayed texts and the answer."""

    channel: str
    after: int | None
    backlog: Backlog
    gap: Gap | None
    reset: bool

    @property
    def texts(self) -> list[str]:
        return [text for _seq, text in self.backlog.entries]

    def answer(self) -> dict[str, Any]:
        """Return the ``apigw_ws.resumed`` message that ends the replay."""
        answer: dict[str, Any] = {
            "type": RESUMED_TYPE,
            "channel": self.channel,
            "seq": self.backlog.last_seq,
            "replayed": len(self.backlog.entries),
            "gap": self.gap.as_json() if self.gap else None,
        }
        if self.reset:
            answer["reset"] = True
        return answer


def first_kept_after(after: int, last_seq: int, max_messages: int) -> int:
    """Return the sequence number a store reads from for a client that saw ``after``.

    Never further back than ``max_messages``; from the start when ``after`` is beyond
    ``last_seq`` (the channel's numbering restarted).
    """
    return max(after if after < last_seq else 0, last_seq - max_messages) + 1


def plan_resume(channel: str, after: int | None, backlog: Backlog) -> ResumePlan:
    """Return what a client that saw ``channel`` up to ``after`` is owed from ``backlog``.

    ``after`` ``None``: the client saw nothing yet and gets only the current sequence.
    ``after`` beyond the channel's latest sequence means the sequence restarted (a cache
    backlog was flushed): everything retained is replayed and the answer says ``reset``.
    """
    if after is None:
        return ResumePlan(channel, None, Backlog(backlog.last_seq), None, False)
    reset = after > backlog.last_seq
    start = 0 if reset else after
    first_kept = backlog.entries[0][0] if backlog.entries else backlog.last_seq + 1
    gap = Gap(start + 1, first_kept - 1) if first_kept > start + 1 else None
    return ResumePlan(channel, after, backlog, gap, reset)


def replay_frames(channel: str, texts: Sequence[str], max_bytes: int) -> Iterator[str]:
    """Yield ``apigw_ws.replay`` frames of ``texts`` (stamped JSON), each within ``max_bytes``.

    The texts are embedded as they were sent, not decoded and encoded again. A message
    too large to share a frame with the wrapper is yielded alone, as it was sent live.
    """
    head = '{"type":' + json.dumps(REPLAY_TYPE) + ',"channel":' + json.dumps(channel)
    head += ',"messages":['
    tail = "]}"
    batch: list[str] = []
    size = 0
    for text in texts:
        length = len(text.encode())
        if len(head) + len(tail) + length > max_bytes:
            if batch:
                yield head + ",".join(batch) + tail
                batch, size = [], 0
            yield text
            continue
        if batch and len(head) + len(tail) + size + 1 + length > max_bytes:
            yield head + ",".join(batch) + tail
            batch, size = [], 0
        size += length + (1 if batch else 0)
        batch.append(text)
    if batch:
        yield head + ",".join(batch) + tail


def last_seen(body: Mapping[str, Any], channel: str) -> int | None:
    """Return the sequence number a resume message says the client saw in ``channel``.

    Raises ``ValueError`` for a body that does not carry ``last`` as an object of
    channel names to a non-negative integer or ``null``.
    """
    last = body.get("last")
    if not isinstance(last, Mapping):
        raise ValueError("'last' must be an object of channel names to sequence numbers")
    seen = last.get(channel)
    if seen is None:
        return None
    if not isinstance(seen, int) or isinstance(seen, bool) or seen < 0:
        raise ValueError(f"'last' of channel {channel!r} must be an integer >= 0 or null")
    return seen
