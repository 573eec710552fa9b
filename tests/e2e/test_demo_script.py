"""``scripts/demo`` refuses a taken or invalid port before it starts anything."""

import os
import socket
import subprocess

import pytest

from .conftest import ROOT, free_port

DEMO = ROOT / "scripts" / "demo"


def run_demo(**env):
    return subprocess.run(
        [str(DEMO)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "what"), [("DEMO_PORT", "Django"), ("DEMO_GATEWAY_PORT", "the local gateway")]
)
def test_a_taken_port_is_a_clear_error_and_no_url_is_printed(variable, what):
    ports = {"DEMO_PORT": str(free_port()), "DEMO_GATEWAY_PORT": str(free_port())}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_demo(**{**ports, variable: str(port)})
    assert result.returncode == 1
    assert f"port {port} ({what}) is already in use" in result.stderr
    assert f"{variable}=<port>" in result.stderr
    assert "http://" not in result.stdout


@pytest.mark.parametrize("value", ["abc", "70000", "0"])
def test_a_value_that_is_no_port_is_refused(value):
    result = run_demo(DEMO_PORT=value)
    assert result.returncode == 2
    assert f"'{value}' is not a port number" in result.stderr
    assert "http://" not in result.stdout


def test_the_same_port_twice_is_refused():
    port = str(free_port())
    result = run_demo(DEMO_PORT=port, DEMO_GATEWAY_PORT=port)
    assert result.returncode == 2
    assert "must differ" in result.stderr
