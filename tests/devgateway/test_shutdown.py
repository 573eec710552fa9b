"""Ctrl-C on a running gateway process: every socket closed, every ``$disconnect`` posted.

The gateway runs as ``python -m apigw_ws.devgateway`` in a child process and gets a real
SIGINT, as from a terminal; ``manage.py ws_devgateway`` serves through the same
``DevGateway.run()``.
"""

import asyncio
import re
import signal
import subprocess
import sys

import aiohttp
import pytest

from tests.conftest import missing_prerequisite

from .conftest import TIMEOUT, run
from .test_without_django import Backend

try:
    import resource
except ImportError:  # not POSIX: no SIGINT to a child, no open-file limit
    missing_prerequisite("the resource module (POSIX only) is missing", allow_module_level=True)


async def start_gateway_process(target, *flags):
    """Start the gateway on a free port; return the process, its WebSocket URL, its log."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apigw_ws.devgateway",
        "--target",
        target,
        "--port",
        "0",
        *flags,
        stderr=asyncio.subprocess.PIPE,
    )
    log = []
    while True:
        line = (await process.stderr.readline()).decode()
        assert line, f"the gateway exited before listening: {''.join(log)}"
        log.append(line)
        found = re.search(r"WebSocket URL:\s+(ws://\S+)", line)
        if found:
            return process, found.group(1), log


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_closes_every_socket_with_1001_and_posts_each_disconnect_before_exit(sig):
    async def main():
        backend = Backend()
        await backend.start()
        process = None
        try:
            process, ws_url, log = await start_gateway_process(backend.target)
            async with aiohttp.ClientSession() as http:
                sockets = [await http.ws_connect(ws_url) for _ in range(3)]
                connected = {r[1]["Connectionid"] for r in await backend.wait_for("connect", 3)}
                process.send_signal(sig)
                codes = []
                for ws in sockets:
                    msg = await ws.receive(timeout=TIMEOUT)
                    codes.append((msg.type, msg.data))
                _, rest = await asyncio.wait_for(process.communicate(), TIMEOUT)
            # Posted before the process exited: nothing to wait for here.
            disconnected = {r[1]["Connectionid"] for r in backend.of("disconnect")}
            return connected, disconnected, codes, process.returncode, "".join(log) + rest.decode()
        finally:
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
            await backend.stop()

    connected, disconnected, codes, returncode, log = run(main())
    assert len(connected) == 3
    assert disconnected == connected
    assert codes == [(aiohttp.WSMsgType.CLOSE, 1001)] * 3
    assert returncode == 0
    assert "shutting down: closing 3 sockets" in log
    assert log.count("gateway shut down, close code 1001): Django answered 200") == 3


RAISES_LIMIT = """
import asyncio, resource
from apigw_ws.devgateway import DevGateway, GatewayConfig

resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

async def main():
    async with DevGateway(GatewayConfig(target="http://127.0.0.1:9/ws/", port=0)):
        print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])

asyncio.run(main())
"""


def test_the_gateway_raises_a_low_open_file_limit_so_thousands_of_sockets_fit():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 256:
        missing_prerequisite(f"the hard open-file limit is {hard}: nothing to raise to")
    done = subprocess.run(
        [sys.executable, "-c", RAISES_LIMIT], capture_output=True, text=True, timeout=60, check=True
    )
    expected = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    assert int(done.stdout) == expected
