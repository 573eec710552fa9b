"""The core (everything outside ``apigw_ws.contrib`` and ``apigw_ws.testing``) imports no Django.

Run in a fresh interpreter: this test process has long since loaded Django.
"""

import subprocess
import sys
from pathlib import Path

import apigw_ws

PACKAGE = Path(apigw_ws.__file__).parent
DJANGO_SIDE = {"contrib", "testing"}


def core_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in DJANGO_SIDE or parts[-1] == "__main__":
            continue
        name = ".".join(("apigw_ws", *parts)).removesuffix(".__init__")
        yield name


def test_importing_every_core_module_loads_no_django():
    modules = list(core_modules())
    assert "apigw_ws.sending.sender" in modules
    assert "apigw_ws.builtin_plugins.login_binding" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={}
    )
    assert result.stdout.strip() == "[]"
