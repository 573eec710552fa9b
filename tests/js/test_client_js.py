"""The JS client's unit tests (tests/js/*.test.js), run by Node's built-in test runner."""

import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing_prerequisite

HERE = Path(__file__).parent


def test_node_unit_tests_of_the_js_client_pass():
    node = shutil.which("node")
    if node is None:
        missing_prerequisite("node is not installed: the JS client's unit tests cannot run")
    files = sorted(str(path) for path in HERE.glob("*.test.js"))
    assert files, "no JS test files found"
    result = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr}"
    assert "# fail 0" in result.stdout
