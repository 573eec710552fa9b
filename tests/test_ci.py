"""``CI`` means one thing to the suite and to ``scripts/test``: every prerequisite required."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci import in_ci

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value", ["1", "true", "True", "TRUE", "yes", "Yes", "on", " true\n"])
def test_yes_in_any_case_means_ci(value):
    assert in_ci({"CI": value}) is True


@pytest.mark.parametrize("value", ["", "0", "false", "False", "no", "NO", "off"])
def test_no_in_any_case_or_nothing_means_not_ci(value):
    assert in_ci({"CI": value}) is False


def test_an_unset_ci_means_not_ci():
    assert in_ci({}) is False


@pytest.mark.parametrize("value", ["2", "enabled", "y", "truthy"])
def test_a_value_neither_yes_nor_no_is_an_error_naming_it(value):
    with pytest.raises(ValueError, match=rf"CI='{value}' is neither yes nor no"):
        in_ci({"CI": value})


def run_module(value):
    return subprocess.run(
        [sys.executable, "-m", "tests.ci"],
        cwd=ROOT,
        env={**os.environ, "CI": value},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_shell_reads_the_same_answer_from_the_module():
    assert run_module("Yes").stdout == "true\n"
    assert run_module("0").stdout == "false\n"
    refused = run_module("enabled")
    assert refused.returncode == 2
    assert "neither yes nor no" in refused.stderr


@pytest.mark.parametrize("script", ["scripts/test", ".ci/run"])
def test_the_scripts_ask_the_module_and_never_compare_ci_themselves(script):
    text = (ROOT / script).read_text()
    assert "python3 -m tests.ci" in text
    assert not re.search(r"\[\[[^]]*\$\{?CI\b[^_]", text), "compare CI through tests/ci.py"
