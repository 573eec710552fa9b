"""The Python examples of the docs compile, and those of the listed pages run.

Every ``.. code-block:: python`` of every page must at least compile. The pages in ``RUN``
are executed block after block in one namespace, like a reader typing them into a shell
(with ``import apigw_ws`` done and a database): an example that uses a name the package
does not have fails here. Plugin examples are then registered with a real plugin manager,
which refuses a hook name or argument that is not in ``apigw_ws.hooks.specs``.
"""

import re
import types

import pytest

import apigw_ws
from apigw_ws.plugins import new_manager

from .rst import code_blocks, page, pages

#: Pages whose examples are executed. Pages left out are fragments by nature (test bodies
#: using fixtures, handler bodies using ``ctx``) or are being rewritten by their owners.
RUN = [
    "aws-setup",
    "chat-example",
    "cleanup",
    "client",
    "deployment",
    "handlers",
    "installation",
    "migrating",
    "plugins",
    "rate-limiting",
    "settings",
    "troubleshooting",
]
#: Blocks of RUN pages that are only compiled, each with the reason; matched by a line.
COMPILE_ONLY = {
    "class ChatView(WebSocketView):": "the incumbent's code, before the upgrade",
    'register(post_message, route="chat"': "the body of a register_handlers hook",
}
#: Environment the settings examples read.
ENVIRONMENT = {
    "APIGW_WS_GATEWAY_SECRET": "s" * 43,
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


#: Pages with Python examples: only these are compiled, a page without any tests nothing.
PYTHON_PAGES = [name for name in pages() if code_blocks(page(name), "python")]
#: Ways of marking a block as Python that ``code_blocks(..., "python")`` would not see.
UNREAD_PYTHON = re.compile(
    r"^ *\.\. (?:code|sourcecode):: |^ *\.\. code-block:: (?:py|python3|pycon|ipython)\s*$",
    re.MULTILINE,
)


@pytest.mark.parametrize("name", PYTHON_PAGES)
def test_every_python_example_compiles(name):
    blocks = code_blocks(page(name), "python")
    assert blocks
    for number, block in enumerate(blocks):
        compile(block, f"docs/{name}.rst, python block {number}", "exec")


def test_python_examples_are_marked_so_the_tests_read_them():
    unread = {name: found for name in pages() if (found := UNREAD_PYTHON.findall(page(name)))}
    assert not unread, f"write '.. code-block:: python' instead: {unread}"


def test_the_pages_that_must_run_have_python_to_run():
    assert set(RUN) <= set(PYTHON_PAGES)


def hookimpls(namespace):
    marker = f"{apigw_ws.hookimpl.project_name}_impl"
    return {k: v for k, v in namespace.items() if callable(v) and hasattr(v, marker)}


@pytest.mark.django_db
@pytest.mark.parametrize("name", RUN)
def test_the_examples_of_the_page_run(name, monkeypatch):
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    namespace = {"__name__": f"docs_{name.replace('-', '_')}", "apigw_ws": apigw_ws}
    blocks = code_blocks(page(name), "python")
    ran = 0
    for number, block in enumerate(blocks):
        if any(line in block for line in COMPILE_ONLY):
            continue
        exec(compile(block, f"docs/{name}.rst, python block {number}", "exec"), namespace)
        ran += 1
    assert ran, f"docs/{name}.rst has no runnable example: take it out of RUN"
    plugin = types.ModuleType(namespace["__name__"])
    plugin.__dict__.update(hookimpls(namespace))
    manager = new_manager()
    manager.register(plugin)
    manager.check_pending()  # raises on a hook that apigw_ws does not specify


def test_a_misspelt_hook_in_an_example_would_fail():
    # the check above is only worth something if pluggy refuses unknown hooks
    @apigw_ws.hookimpl
    def apigw_ws_on_conect(session):
        pass

    plugin = types.ModuleType("typo")
    plugin.apigw_ws_on_conect = apigw_ws_on_conect
    manager = new_manager()
    manager.register(plugin)
    with pytest.raises(Exception, match="unknown hook"):
        manager.check_pending()
