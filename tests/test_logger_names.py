"""Loggers are named after their module, so ``apigw_ws.<module>`` configures each one."""

import re
from pathlib import Path

import apigw_ws

PACKAGE = Path(apigw_ws.__file__).parent
#: Not module loggers: the local gateway's command line configures the documented parent
#: ``apigw_ws.devgateway`` (its modules log below it), and the test client collects
#: whatever ``apigw_ws`` logs.
CONFIGURERS = {"devgateway/cli.py"}
COLLECTORS = {"testing/client.py"}


def test_every_module_logger_is_named_after_its_module():
    named_otherwise = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"getLogger\((?!__name__\)|name\))", path.read_text(encoding="utf-8"))
    )
    assert set(named_otherwise) - CONFIGURERS - COLLECTORS == set()
