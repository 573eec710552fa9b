"""Loggers are named after their module, so ``apigw_ws.<module>`` configures each one."""

import re
from pathlib import Path

import apigw_ws

PACKAGE = Path(apigw_ws.__file__).parent
#: Modules whose logger has another name today, each a child of a documented parent
#: (``apigw_ws.devgateway``, ``apigw_ws``); their owners rename them.
NOT_YET = {"devgateway/cli.py", "devgateway/connections.py", "devgateway/server.py"}
#: Not a module logger: the test client collects whatever ``apigw_ws`` logs.
COLLECTORS = {"testing/client.py"}


def test_every_module_logger_is_named_after_its_module():
    named_otherwise = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"getLogger\((?!__name__\)|name\))", path.read_text(encoding="utf-8"))
    )
    assert set(named_otherwise) - NOT_YET - COLLECTORS == set()
