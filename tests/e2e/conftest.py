"""The example chat project, really running, and a real Chromium to drive it.

The project runs as ``scripts/demo`` runs it: ``manage.py runserver`` and
``manage.py ws_devgateway`` as subprocesses of the example project (its own settings,
its own SQLite file), on free loopback ports. Chromium is Debian's ``/usr/bin/chromium``
driven by Playwright's Python package (its own browser download is never used).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import missing_prerequisite

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "project"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where screenshots go: CI keeps this directory as the test artifacts.
ARTIFACTS = Path(os.environ.get("APIGW_WS_ARTIFACTS", ROOT / "test-artifacts"))
STARTUP_SECONDS = 30


try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the `test` extra installs it
    sync_playwright = None
else:
    # Two cores shared with other jobs: allow a slow moment, still fail a real hang.
    expect.set_options(timeout=15_000)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, what):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {STARTUP_SECONDS} s")


class Demo:
    """The example project's Django and local gateway, each a process of its own."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.django_port = free_port()
        self.gateway_port = free_port()
        self.url = f"http://127.0.0.1:{self.django_port}"
        self.env = {
            **os.environ,
            "EXAMPLE_DATABASE": str(workdir / "chat.sqlite3"),
            "APIGW_WS_ENDPOINT_URL": f"http://127.0.0.1:{self.gateway_port}",
            "EXAMPLE_CONNECTS_PER_MINUTE": "100000",
            # Refused-connect tests retry quickly: the default limits are for humans.
            "EXAMPLE_TOKENS_PER_MINUTE": "100000",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
        }
        self.env.pop("PYTHONPATH", None)
        self.django = None
        self.gateway = None
        self._logs = []

    def manage(self, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _spawn(self, name, *args):
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self):
        self.start_django()
        self.start_gateway()

    def start_django(self):
        self.manage("migrate", "--noinput")
        self.manage("chat_setup", "--gateway-target", f"{self.url}/ws/")
        self.django = self._spawn(
            "django", "runserver", f"127.0.0.1:{self.django_port}", "--noreload"
        )
        wait_for_port(self.django_port, self.django, "runserver")

    def start_gateway(self):
        self.gateway = self._spawn(
            "gateway",
            "ws_devgateway",
            "--gateway",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.gateway_port),
        )
        wait_for_port(self.gateway_port, self.gateway, "ws_devgateway")

    def kill_gateway(self):
        """Kill the gateway outright (SIGKILL): sockets drop, no $disconnect is posted."""
        os.killpg(self.gateway.pid, signal.SIGKILL)
        self.gateway.wait(10)

    def stop(self):
        for process in (self.gateway, self.django):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)
        for log in self._logs:
            log.close()

    def log(self, name):
        return (self.workdir / f"{name}.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("chat-demo")
    server = Demo(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    # Module scope: while Playwright's sync API is up, Django's async-safety check
    # refuses database access in this thread, so it must be gone before other tests.
    if sync_playwright is None:
        missing_prerequisite("playwright is not installed (pip install -e '.[test]')")
    if not shutil.which(CHROMIUM):
        missing_prerequisite(
            f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def open_contexts(browser):
    """Return ``new()``: a fresh browser context (its own cookies) per user; closed after."""
    contexts = []

    def new():
        context = browser.new_context(viewport={"width": 1100, "height": 700})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield new
    for context in contexts:
        context.close()
