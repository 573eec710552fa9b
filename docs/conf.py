"""Sphinx configuration of the apigw_ws documentation.

Build: sphinx-build -W --keep-going -b html docs docs/_build/html
(scripts/test runs exactly this; tests/docs check what the build cannot.)
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Nothing here sets Django up: the pages document the core and apigw_ws.testing, which
# import no Django at module level, so `pip install -e '.[docs]'` is all a build needs
# (tests/docs/test_docs_dependencies.py holds that).
from apigw_ws import __version__  # noqa: E402 - needs the path above

project = "apigw_ws"
author = "apigw_ws contributors"
copyright = "apigw_ws contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["sphinx.ext.autodoc"]

# Every cross-reference must resolve (with -W a dangling one fails the build).
nitpicky = True
# The standard library's own pages are not part of this build (no intersphinx: the build
# must work offline), so its types cannot be linked.
nitpick_ignore_regex = [("py:class", r"collections\.abc\..*")]

exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path: list[str] = []

html_theme = "furo"
html_title = f"apigw_ws {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"

highlight_language = "python3"
