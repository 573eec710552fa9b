"""``ws_startplugin``: the scaffold installs and passes its own tests, as the docs say.

The walkthrough test runs the commands of docs/writing-plugins.rst literally, in a
throwaway venv that has this one's packages but no other apigw_ws plugin, so installing
the scaffold never changes the entry points the rest of the suite sees.
"""

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.docs.rst import code_blocks

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "docs" / "writing-plugins.rst"


def scaffold(tmp_path, name="greetings"):
    out = StringIO()
    call_command("ws_startplugin", name, "--directory", str(tmp_path), stdout=out)
    return out.getvalue()


#: The lines of the project block that make the environment the throwaway venv stands in
#: for (a venv with apigw_ws in it); every other line runs as written.
ENVIRONMENT_LINES = [
    "python3 -m venv .venv-plugins && . .venv-plugins/bin/activate",
    "python -m pip install -e ./apigw_ws",
]


def console_lines(name):
    """Return the ``$`` lines of the walkthrough's console block called ``name``."""
    text = WALKTHROUGH.read_text()
    block = text.split(f":name: {name}", 1)[1].split("\n\n", 2)[1]
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("$ ")]


def walkthrough_commands():
    """Return what the walkthrough has a newcomer type, after making the environment."""
    project = console_lines("walkthrough-project")
    assert project[: len(ENVIRONMENT_LINES)] == ENVIRONMENT_LINES
    return project[len(ENVIRONMENT_LINES) :] + console_lines("walkthrough-commands")


def test_the_scaffold_has_every_file_with_the_names_filled_in(tmp_path):
    output = scaffold(tmp_path, "chat_tools")
    root = tmp_path / "apigw-ws-chat-tools"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "apigw_ws_chat_tools/__init__.py",
        "apigw_ws_chat_tools/plugin.py",
        "pyproject.toml",
        "tests/__init__.py",
        "tests/settings.py",
        "tests/test_plugin.py",
        "tests/urls.py",
    ]
    assert not [f for f in files if "[[" in (root / f).read_text()]
    pyproject = (root / "pyproject.toml").read_text()
    assert 'chat-tools = "apigw_ws_chat_tools.plugin"' in pyproject
    assert 'name = "apigw-ws-chat-tools"' in pyproject
    assert '"chat-tools.hello"' in (root / "apigw_ws_chat_tools/plugin.py").read_text()
    assert "pip install -e" in output


def test_the_scaffold_is_lint_clean(tmp_path):
    scaffold(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."],
        cwd=tmp_path / "apigw-ws-greetings",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["", "Greetings", "1st", "a b", "../x", "x-", "x" * 41, "é"])
def test_an_invalid_name_is_refused_with_the_rule(tmp_path, name):
    with pytest.raises(CommandError, match="lower-case letters"):
        scaffold(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_never_overwritten(tmp_path):
    (tmp_path / "apigw-ws-greetings").mkdir()
    with pytest.raises(CommandError, match="already exists"):
        scaffold(tmp_path)
    assert list((tmp_path / "apigw-ws-greetings").iterdir()) == []


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory, throwaway_env):
    """Run the walkthrough's ``$`` lines literally, from making the project on, in the
    throwaway venv.

    Returns the commands and, per command, what it printed. pytest runs with ``-v`` (through
    ``PYTEST_ADDOPTS``, so the commands stay as written) to show every test's outcome.
    """
    commands = walkthrough_commands()
    project = tmp_path_factory.mktemp("walkthrough")
    script = "set -eu\n" + "\n".join(f"echo '>>> {i}'\n{c}" for i, c in enumerate(commands))
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=project,
        env={**throwaway_env, "PYTEST_ADDOPTS": "-v -p no:cacheprovider"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    parts = re.split(r"^>>> (\d+)\n", result.stdout, flags=re.MULTILINE)
    outputs = {commands[int(i)]: text for i, text in zip(parts[1::2], parts[2::2], strict=True)}
    return commands, result.returncode, result.stdout, outputs


def documented_table(header):
    """Return the rows, split into words, of the walkthrough's text block that starts so."""
    (block,) = [b for b in code_blocks(WALKTHROUGH.read_text(), "text") if b.startswith(header)]
    return [line.split() for line in block.splitlines() if line.strip()]


def printed_table(output, header):
    lines = output[output.index(header) :].splitlines()
    return [line.split() for line in lines if line.strip()]


def test_the_walkthrough_scaffolds_installs_tests_and_lists_in_that_order(walkthrough):
    commands, returncode, output, outputs = walkthrough
    assert commands[0] == "python -m django startproject mysite && cd mysite"
    assert "python manage.py ws_startplugin greetings" in commands
    install = next(i for i, c in enumerate(commands) if c.startswith("python -m pip install -e"))
    assert commands.index("python -m pytest") > install
    assert commands.index("python manage.py ws_handlers --route '$default'") > install
    assert returncode == 0, output
    assert len(outputs) == len(commands), output


def test_the_scaffolds_own_tests_all_pass_property_and_outbox_tests_included(walkthrough):
    *_, outputs = walkthrough
    run = outputs["python -m pytest"]
    passed = set(re.findall(r"^tests/test_plugin\.py::(\w+)\S* PASSED", run, re.MULTILINE))
    assert {
        "test_hello_greets_every_valid_body_and_refuses_a_blank_name",  # bodies_for(hello)
        "test_no_body_makes_a_server_error",  # hostile_bodies()
        "test_a_wave_reaches_the_whole_channel_and_nothing_leaves_the_process",
        "test_a_test_that_does_not_ask_for_the_outbox_sends_nothing_out_either",
        "test_blocking_the_plugin_removes_its_handlers_and_no_other",
    } <= passed, run
    summary = run.strip().splitlines()[-1]
    assert re.fullmatch(r"=+ \d+ passed in [\d.]+s( \(\S+\))? =+", summary), run


def test_no_other_plugin_is_installed_where_the_walkthrough_runs(walkthrough):
    *_, outputs = walkthrough
    rows = printed_table(outputs["python manage.py ws_plugins"], "NAME")[1:]
    assert [row[0] for row in rows if row[1:3] == ["entry", "point"]] == ["greetings"]


def test_ws_handlers_prints_what_the_walkthrough_shows(walkthrough):
    *_, outputs = walkthrough
    printed = printed_table(outputs["python manage.py ws_handlers --route '$default'"], "ROUTE")
    assert printed == documented_table("ROUTE")


def test_ws_plugins_prints_what_the_walkthrough_shows(walkthrough):
    *_, outputs = walkthrough
    printed = printed_table(outputs["python manage.py ws_plugins"], "NAME")
    assert printed == documented_table("NAME")


def test_the_suites_own_environment_never_sees_the_scaffold():
    from importlib import metadata

    assert "greetings" not in {ep.name for ep in metadata.entry_points(group="apigw_ws")}
