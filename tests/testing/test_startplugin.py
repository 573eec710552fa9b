"""``ws_startplugin``: the scaffold installs and passes its own tests, as the docs say.

The walkthrough test runs the commands of docs/writing-plugins.rst literally, in a
throwaway venv layered on this one, so installing the scaffold never changes the entry
points the rest of the suite sees.
"""

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "docs" / "writing-plugins.rst"

PROJECT_SETTINGS = """\
SECRET_KEY = "walkthrough"
USE_TZ = True
ROOT_URLCONF = "project_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "apigw_ws.contrib.django",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
APIGW_WS = {"GATEWAY_SECRET": "w" * 40}
"""
PROJECT_URLS = """\
from django.urls import include, path

urlpatterns = [path("ws/", include("apigw_ws.contrib.django.urls"))]
"""
MANAGE_PY = """\
import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project_settings")
execute_from_command_line(sys.argv)
"""


def scaffold(tmp_path, name="greetings"):
    out = StringIO()
    call_command("ws_startplugin", name, "--directory", str(tmp_path), stdout=out)
    return out.getvalue()


def walkthrough_commands():
    """Return the ``$`` lines of the walkthrough's first console block."""
    text = WALKTHROUGH.read_text()
    block = text.split(":name: walkthrough-commands", 1)[1].split("\n\n", 2)[1]
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("$ ")]


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


def test_the_walkthrough_commands_scaffold_install_pass_their_tests_and_list(
    tmp_path, throwaway_env
):
    commands = walkthrough_commands()
    assert commands[0] == "python manage.py ws_startplugin greetings"
    assert any(c.startswith("python -m pip install -e") for c in commands)
    assert "python -m pytest" in commands
    project = tmp_path / "project"
    project.mkdir()
    (project / "manage.py").write_text(MANAGE_PY)
    (project / "project_settings.py").write_text(PROJECT_SETTINGS)
    (project / "project_urls.py").write_text(PROJECT_URLS)
    script = "set -eu\n" + "\n".join(f"echo '>>> {i}'\n{c}" for i, c in enumerate(commands))
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=project,
        env=throwaway_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\d+ passed", output), output
    assert " failed" not in output
    listing = output.split(f">>> {commands.index('cd ..') + 1}", 1)[1]
    assert re.search(
        r"\$default\s+greetings\.hello\s+greetings\s+apigw-ws-greetings\s+0\.1\.0", listing
    )
    assert re.search(r"\$default\s+greetings\.secret\s+greetings", listing)
    assert re.search(r"greetings\s+entry point\s+apigw-ws-greetings\s+0\.1\.0", listing), listing


def test_the_suites_own_environment_never_sees_the_scaffold():
    from importlib import metadata

    assert "greetings" not in {ep.name for ep in metadata.entry_points(group="apigw_ws")}
