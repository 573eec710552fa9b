"""The local gateway for the fan-out benchmark, in a process of its own.

Started by ``fanout.py`` (our venv). It serves the Management API on a free loopback port
with ``--latency`` seconds added to every call, opens ``--sinks`` connections without
sockets (``DevGateway.open_sinks``), writes their ids to ``--ids`` (one per line), prints
one JSON line ``{"endpoint_url": ...}`` and then answers on stdin:

- ``count``: prints ``{"received": <messages the sinks have received so far>,
  "cpu": <this process's CPU seconds so far>}``;
- end of input: stops.

A process of its own, so that the senders measured never share a GIL with the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
from pathlib import Path

from apigw_ws.devgateway import DevGateway, Faults, GatewayConfig

# Sinks post no $connect or $disconnect: nothing listens at the target (discard port).
NOWHERE = "http://127.0.0.1:9/ws/"


async def serve(args: argparse.Namespace) -> None:
    config = GatewayConfig(
        target=NOWHERE,
        api_id=args.api_id,
        stage=args.stage,
        port=0,
        faults=Faults(latency=args.latency),
    )
    async with DevGateway(config) as gateway:
        ids = gateway.open_sinks(args.sinks)
        args.ids.write_text("\n".join(ids) + "\n")
        print(json.dumps({"endpoint_url": gateway.endpoint_url}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "count":
                received = sum(getattr(c.ws, "messages", 0) for c in gateway.table)
                usage = resource.getrusage(resource.RUSAGE_SELF)
                cpu = usage.ru_utime + usage.ru_stime
                print(json.dumps({"received": received, "cpu": cpu}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sinks", type=int, required=True)
    parser.add_argument("--ids", type=Path, required=True)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--api-id", default="bench0api1")
    parser.add_argument("--stage", default="bench")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
