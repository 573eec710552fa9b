"""Every management command has its own section in docs/commands.rst, and no other does."""

from pathlib import Path

import apigw_ws.contrib.django.management.commands as commands_package

from .rst import headings, page


def command_names():
    folder = Path(commands_package.__file__).parent
    return {p.stem for p in folder.glob("ws_*.py")}


def test_every_management_command_has_a_section_in_the_commands_page():
    documented = {h.strip("`") for h in headings(page("commands")) if h.startswith("``ws_")}
    assert command_names(), "no commands found: the glob is wrong"
    assert command_names() - documented == set(), "commands without a section"


def test_the_commands_page_documents_no_command_that_does_not_exist():
    documented = {h.strip("`") for h in headings(page("commands")) if h.startswith("``ws_")}
    assert documented - command_names() == set()


def test_the_commands_page_has_no_planned_section_left():
    assert "Planned" not in headings(page("commands"))
