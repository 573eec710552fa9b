import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest


@pytest.fixture
def throwaway_env(tmp_path):
    """Return the environment of a new venv that sees this one's packages.

    Packages installed with its ``python -m pip`` land in the new venv only, so the
    test suite's own environment (and its entry points) stays as it was. pip works
    offline: no build isolation (the build backend comes from this venv), no
    dependencies (they are here already), no index.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    # addsitedir, not a bare path: the parent's own .pth files (editable installs) count.
    Path(purelib, "_parent_venv.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
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
