"""Message validation every project wants: per-handler size, required keys, channel names.

The body is already known to be a JSON object within ``MAX_MESSAGE_BYTES`` when hooks see
it (the dispatch view refuses anything else first); this plugin adds the per-handler
limits a handler declares with ``@handler(max_bytes=..., required_keys=..., schema=...)``,
and checks that a ``channel`` key, wherever a message carries one, is a valid channel name.
"""

from __future__ import annotations

from typing import Any

from apigw_ws.hooks import hookimpl
from apigw_ws.schema import problems as schema_problems
from apigw_ws.validation import channel_name_problem


@hookimpl
def apigw_ws_validate_message(context: Any, handler: Any, body: dict[str, Any]) -> list[str]:
    problems = []
    size = len(context.event.body)
    if handler.max_bytes is not None and size > handler.max_bytes:
        problems.append(f"body is {size} bytes, handler allows {handler.max_bytes}")
    missing = [key for key in handler.required_keys if key not in body]
    if missing:
        problems.append(f"missing required keys {missing}")
    if handler.schema is not None:
        problems += schema_problems(handler.schema, body)
    if "channel" in body:
        channel = body["channel"]
        problem = channel_name_problem(channel) if isinstance(channel, str) else "not a string"
        if problem:
            problems.append(f"invalid channel: {problem}")
    return problems
