import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from apigw_ws.plugins import ENTRY_POINT_GROUP


def plugin_distributions(purelib):
    """Return the distributions in ``purelib`` that declare an ``apigw_ws`` entry point."""
    return [
        dist
        for dist in metadata.distributions(path=[purelib])
        if any(ep.group == ENTRY_POINT_GROUP for ep in dist.entry_points)
    ]


def make_throwaway_env(directory):
    """Return the environment of a new venv with this one's packages but no apigw_ws plugin.

    The new venv's site-packages links every entry of this venv's, except the files of
    distributions that declare an ``apigw_ws`` entry point (the example plugin): what a
    plugin author has after ``pip install apigw-ws``, with nothing else registering
    handlers. Packages installed with its ``python -m pip`` land in the new venv only, so
    the suite's own environment stays as it was. pip works offline: no build isolation
    (the build backend is linked in), no dependencies (they are here already), no index.
    """
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    parent = Path(sysconfig.get_paths()["purelib"])
    hidden = {f.parts[0] for dist in plugin_distributions(parent) for f in dist.files or ()}
    for entry in parent.iterdir():
        if entry.name not in hidden and entry.name != "__pycache__":
            # .pth files are linked too, so editable installs (apigw_ws itself) still work.
            (purelib / entry.name).symlink_to(entry)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_NO_DEPS": "1",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def throwaway_env(tmp_path_factory):
    """Return the environment of a throwaway venv (see ``make_throwaway_env``)."""
    return make_throwaway_env(tmp_path_factory.mktemp("throwaway"))
