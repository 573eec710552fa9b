"""``manage.py ws_startplugin NAME``: scaffold a separately installable plugin package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

TEMPLATE = Path(__file__).resolve().parent.parent / "plugin_template"
NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


def names_for(name: str) -> dict[str, str]:
    """Return the names a plugin called ``name`` gets: plugin, distribution, module."""
    if not NAME_RE.fullmatch(name) or len(name) > 40:
        raise CommandError(
            f"invalid plugin name {name!r}: use lower-case letters, digits, '-' and '_',"
            " starting with a letter, at most 40 characters (e.g. 'greetings')"
        )
    plugin = name.replace("_", "-")
    return {
        "plugin": plugin,
        "dist": f"apigw-ws-{plugin}",
        "module": "apigw_ws_" + plugin.replace("-", "_"),
    }


def render(text: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        text = text.replace(f"[[{key}]]", value)
    return text


class Command(BaseCommand):
    help = (
        "Create a plugin package (pyproject with the apigw_ws entry point, a handler, a"
        " permission check, a validator, tests and a README) in ./apigw-ws-NAME."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The plugin's name, e.g. 'greetings'.")
        parser.add_argument(
            "--directory", default=".", help="Where to create the package (default: here)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = names_for(options["name"])
        target = Path(options["directory"]) / names["dist"]
        if target.exists():
            raise CommandError(f"{target} already exists; remove it or pick another name")
        for source in sorted(TEMPLATE.rglob("*.tmpl")):
            relative = source.relative_to(TEMPLATE).with_suffix("")
            parts = [names["module"] if part == "module" else part for part in relative.parts]
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(render(source.read_text(), names))
        self.stdout.write(
            f"Created {target}: plugin {names['plugin']!r}, distribution {names['dist']},"
            f" module {names['module']}.\nNext: cd {target} && pip install -e '.[test]'"
            " && python -m pytest"
        )
