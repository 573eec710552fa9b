"""Sphinx configuration of the apigw_ws documentation.

Build: sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# autodoc imports the package, and the Django app needs configured settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()

from apigw_ws import __version__  # noqa: E402 - needs the path and settings above

project = "apigw_ws"
author = "apigw_ws contributors"
copyright = "apigw_ws contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["sphinx.ext.autodoc"]

exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path: list[str] = []

html_theme = "alabaster"
html_title = f"apigw_ws {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"

highlight_language = "python3"
