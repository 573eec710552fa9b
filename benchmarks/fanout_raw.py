"""The ceiling: unsigned raw HTTP POSTs to the Management API, at a given concurrency.

What no sender can beat on this gateway and this machine: ``concurrency`` coroutines
sharing one aiohttp ``ClientSession`` whose pooled connector keeps ``concurrency``
keep-alive connections, each posting the same JSON bytes to ``@connections/{id}`` for the
next id, with no database, no signing, no client library. Every answer must be 200.
Prints JSON like the other workers (``fanout_common.run_points``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from importlib import metadata

import aiohttp
import fanout_common as fc


async def post_all(
    http: aiohttp.ClientSession, base: str, ids: list[str], body: bytes, concurrency: int
) -> int:
    """Post ``body`` to every id with ``concurrency`` workers; return how many got 200."""
    queue = iter(ids)
    delivered = 0

    async def worker() -> None:
        nonlocal delivered
        for connection_id in queue:  # one shared iterator: each id is taken once
            async with http.post(f"{base}/{connection_id}", data=body) as response:
                await response.read()
                delivered += response.status == 200

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return delivered


def main() -> int:
    args = fc.parser(__doc__.splitlines()[0]).parse_args()
    ids = fc.read_ids(args.ids)
    base = f"{args.endpoint.rstrip('/')}/{fc.STAGE}/@connections"
    body = json.dumps(fc.MESSAGE, separators=(",", ":")).encode()
    loop = asyncio.new_event_loop()
    sessions: dict[int, aiohttp.ClientSession] = {}

    async def session_for(concurrency: int) -> aiohttp.ClientSession:
        if concurrency not in sessions:
            connector = aiohttp.TCPConnector(limit=concurrency)
            sessions[concurrency] = aiohttp.ClientSession(
                connector=connector, headers={"Content-Type": "application/json"}
            )
        return sessions[concurrency]

    def send(n: int, concurrency: int) -> int:
        concurrency = concurrency or 1

        async def run() -> int:
            return await post_all(await session_for(concurrency), base, ids[:n], body, concurrency)

        return loop.run_until_complete(run())

    try:
        points = fc.run_points(send, args.sizes, args.concurrency, args.rounds, cold=args.cold)
    finally:
        for session in sessions.values():
            loop.run_until_complete(session.close())
        loop.close()
    fc.emit({"versions": {"aiohttp": metadata.version("aiohttp")}, "points": points})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except fc.BenchError as exc:
        sys.exit(f"error: raw: {exc}")
