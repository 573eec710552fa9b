"""The docs build with the ``docs`` extra alone, as the README says.

``pip install -e '.[docs]'`` gives the core dependencies and the docs extra; everything
``docs/conf.py``, its extensions, its theme and every autodoc directive import must come
from those. The check runs them in a subprocess in which every distribution of the other
extras (test, tasks, fast, dev...) fails to import, as it would in a docs-only venv.
"""

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata

from .rst import DOCS, ROOT, page, pages

AUTODOC = re.compile(r"^\.\. auto(?:module|class|function|exception|data):: (\S+)", re.MULTILINE)

IMPORT_ALL = """
import importlib, runpy, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the docs extra)")

sys.meta_path.insert(0, Blocked())
conf = runpy.run_path(CONF)
print("sphinx modules", [*conf["extensions"], conf["html_theme"]])
for dotted in TARGETS:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name in BLOCKED or cut == 1:
                raise
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        break
print("imported", len(TARGETS))
"""


def requirement_name(requirement):
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def docs_extra_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [requirement_name(r) for r in project["optional-dependencies"]["docs"]]


def docs_extra_excludes():
    """Return the top-level modules of distributions that only other extras install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    allowed = {requirement_name(r) for r in [*project["dependencies"], *extras["docs"]]}
    others = {requirement_name(r) for name, reqs in extras.items() if name != "docs" for r in reqs}
    excluded = others - allowed
    modules = {
        module
        for module, dists in metadata.packages_distributions().items()
        if {d.lower().replace("_", "-") for d in dists} <= excluded
    }
    return excluded, modules


def autodoc_targets():
    return sorted({t for name in pages() for t in AUTODOC.findall(page(name))})


def test_the_docs_import_nothing_outside_the_docs_extra():
    excluded, modules = docs_extra_excludes()
    assert {"django-tasks", "pytest", "hypothesis"} <= excluded
    assert {"django_tasks", "pytest", "hypothesis"} <= modules
    targets = autodoc_targets()
    assert "apigw_ws.testing.GatewayClient" in targets
    script = f"BLOCKED = {sorted(modules)!r}\nCONF = {str(DOCS / 'conf.py')!r}\n"
    script += f"TARGETS = {targets!r}\n" + IMPORT_ALL
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"imported {len(targets)}" in result.stdout
    # The extensions and the theme come from the docs extra itself (sphinx, furo): by
    # name, so that this also holds on a leg that does not install the docs extra.
    sphinx_modules = ast.literal_eval(result.stdout.split("sphinx modules ", 1)[1].splitlines()[0])
    docs_extra = set(docs_extra_requirements())
    assert {module.split(".")[0] for module in sphinx_modules} <= docs_extra


def test_the_check_would_catch_a_conf_that_needs_the_test_settings():
    # what docs/conf.py once did: django.setup() with tests.settings, which needs django_tasks
    _, modules = docs_extra_excludes()
    script = f"BLOCKED = {sorted(modules)!r}\n" + IMPORT_ALL.split("conf = ")[0]
    script += (
        "import os, django\nos.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'\n"
        "django.setup()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode != 0
    assert "django_tasks" in result.stderr
    assert "not in the docs extra" in result.stderr


def test_the_readme_says_to_install_the_docs_extra_before_building():
    readme = (ROOT / "README.md").read_text()
    install = readme.find("pip install -e '.[docs]'")
    build = readme.find("sphinx-build", install)
    assert install != -1, "the README does not show how to install the docs extra"
    assert build != -1, "the README shows no sphinx-build after installing the docs extra"
