"""``ws_handlers`` and ``ws_plugins``: a table for people, JSON for scripts, no silent problems."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, ManagementUtility, call_command
from django.test import override_settings

import apigw_ws

CHAT = "tests.plugins.chat"
CHAT_FILE = Path(__file__).resolve().parent.parent / "plugins" / "chat.py"
HANDLER_KEYS = [
    "route",
    "name",
    "plugin",
    "distribution",
    "version",
    "permissions",
    "all_permissions",
    "required_keys",
    "schema",
    "max_bytes",
    "description",
    "source",
]
PLUGIN_KEYS = [
    "name",
    "source",
    "distribution",
    "version",
    "hooks",
    "blocked",
    "status",
    "problems",
]


def run(command, *args, **kwargs):
    """Return (stdout, stderr) of a management command that succeeds."""
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def run_failing(command, *args, **kwargs):
    """Return (error, stdout, stderr) of a management command that must fail."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(command, *args, stdout=out, stderr=err, **kwargs)
    return excinfo.value, out.getvalue(), err.getvalue()


def ws_settings(**changes):
    """Override ``APIGW_WS`` (the plugins reload), keeping the test secret and plugins."""
    return override_settings(APIGW_WS={**settings.APIGW_WS, **changes})


def table(text):
    """Return the table's lines split into cells (cells are two or more spaces apart)."""
    return [[cell for cell in line.split("  ") if cell] for line in text.splitlines()]


def by_name(rows):
    return {row["name"]: row for row in rows}


# ws_handlers


def test_ws_handlers_table_lists_every_handler_with_route_plugin_and_source():
    out, err = run("ws_handlers")
    lines = table(out)
    assert [cell.strip() for cell in lines[0]] == [
        "ROUTE",
        "NAME",
        "PLUGIN",
        "DISTRIBUTION",
        "VERSION",
        "PERMISSIONS",
        "SOURCE",
    ]
    rows = {line[1].strip(): [cell.strip() for cell in line] for line in lines[1:]}
    assert set(rows) == {"default", "say", "moderate", "administer", "status", "explode"}
    assert rows["status"][0] == "presence"
    assert rows["say"][:3] == ["$default", "say", CHAT]
    assert rows["say"][-1].endswith("tests/plugins/chat.py:15")
    assert err == ""


def test_ws_handlers_table_columns_are_aligned():
    out, _ = run("ws_handlers")
    lines = out.splitlines()
    header = lines[0]
    for column in ("NAME", "PLUGIN", "PERMISSIONS", "SOURCE"):
        start = header.index(column)
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines[1:])


def test_ws_handlers_table_shows_any_of_and_all_of_permissions_distinctly():
    out, _ = run("ws_handlers")
    rows = {line[1].strip(): line for line in table(out)[1:]}
    assert rows["moderate"][5].strip() == "auth.view_user or auth.change_user"
    assert rows["administer"][5].strip() == "auth.view_user and auth.change_user"
    assert rows["default"][5].strip() == "-"


def test_ws_handlers_table_groups_any_of_before_all_of_when_a_handler_has_both(ws_plugins):
    @apigw_ws.handler(permissions=["app.a", "app.b"], all_permissions=["app.c"])
    def guarded(ctx):
        return None

    class Plugin:
        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(self, register):
            register(guarded)

    ws_plugins.add(Plugin(), name="guards")
    out, _ = run("ws_handlers")
    row = next(line for line in table(out) if line[1].strip() == "guarded")
    assert row[5].strip() == "(app.a or app.b) and app.c"


def test_ws_handlers_json_is_a_list_of_objects_with_stable_keys():
    out, _ = run("ws_handlers", "--json")
    rows = json.loads(out)
    assert isinstance(rows, list)
    assert len(rows) == 6
    assert all(list(row) == HANDLER_KEYS for row in rows)


def test_ws_handlers_json_carries_every_registration_option():
    rows = by_name(json.loads(run("ws_handlers", "--json")[0]))
    say = rows["say"]
    assert say["route"] == "$default"
    assert say["plugin"] == CHAT
    assert say["required_keys"] == ["text"]
    assert say["max_bytes"] == 1024
    assert say["description"] == "Send text back through the Management API."
    assert rows["moderate"]["permissions"] == ["auth.view_user", "auth.change_user"]
    assert rows["moderate"]["all_permissions"] == []
    assert rows["administer"]["permissions"] == []
    assert rows["administer"]["all_permissions"] == ["auth.view_user", "auth.change_user"]
    assert rows["status"]["route"] == "presence"


def test_ws_handlers_json_source_points_at_the_handlers_def_line():
    rows = by_name(json.loads(run("ws_handlers", "--json")[0]))
    path, _, line = rows["say"]["source"].rpartition(":")
    assert Path(path).resolve() == CHAT_FILE
    source_lines = CHAT_FILE.read_text().splitlines()
    assert source_lines[int(line) - 1].startswith("@apigw_ws.handler(")
    assert source_lines[int(line)].startswith("def say(")


def test_ws_handlers_route_filter_keeps_only_that_routes_handlers():
    rows = json.loads(run("ws_handlers", "--json", "--route", "presence")[0])
    assert [(row["route"], row["name"]) for row in rows] == [("presence", "status")]
    out, _ = run("ws_handlers", "--route", "presence")
    assert [line[1].strip() for line in table(out)[1:]] == ["status"]


@pytest.mark.parametrize("route", ["$default", "default"])
def test_ws_handlers_route_filter_accepts_the_default_route_key_and_its_url_name(route):
    rows = json.loads(run("ws_handlers", "--json", "--route", route)[0])
    assert {row["route"] for row in rows} == {"$default"}
    assert len(rows) == 5


def test_ws_handlers_unknown_route_says_so_names_the_routes_and_succeeds():
    out, err = run("ws_handlers", "--route", "nosuchroute")
    assert out == (
        "No handler is registered on route 'nosuchroute'. Routes with handlers: $default,"
        " presence.\n"
    )
    assert err == ""
    assert json.loads(run("ws_handlers", "--json", "--route", "nosuchroute")[0]) == []


def test_ws_handlers_with_nothing_registered_says_so_and_what_to_do():
    with ws_settings(BLOCKED_PLUGINS=[CHAT]):
        out, err = run("ws_handlers")
        assert json.loads(run("ws_handlers", "--json")[0]) == []
    lines = out.splitlines()
    assert lines[0] == "No handlers are registered, so every message is refused."
    assert lines[1] == (
        "Loaded plugins: apigw_ws.builtin_plugins.permissions,"
        f" apigw_ws.builtin_plugins.validators; blocked: {CHAT}."
    )
    assert "APIGW_WS['PLUGINS']" in lines[2]
    assert "and set LOAD_ENTRY_POINTS to True" in lines[2]  # the test settings turn it off
    assert "ws_startplugin" in lines[2]
    assert err == ""


def test_ws_handlers_json_carries_the_schema_a_body_must_match(ws_plugins):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}

    @apigw_ws.handler(name="counted", schema=schema)
    def counted(ctx):
        return None

    class Plugin:
        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(self, register):
            register(counted)

    ws_plugins.add(Plugin(), name="counter")
    rows = by_name(json.loads(run("ws_handlers", "--json")[0]))
    assert rows["counted"]["schema"] == schema
    assert rows["counted"]["required_keys"] == []  # the schema says what is required
    assert rows["say"]["schema"] is None


def test_ws_handlers_lists_no_handlers_of_a_blocked_plugin():
    with ws_settings(BLOCKED_PLUGINS=[CHAT]):
        rows = json.loads(run("ws_handlers", "--json")[0])
    assert rows == []


# ws_plugins


def test_ws_plugins_table_lists_each_plugin_with_source_status_and_hooks():
    out, err = run("ws_plugins")
    lines = [[cell.strip() for cell in line] for line in table(out)]
    assert lines[0] == ["NAME", "SOURCE", "DISTRIBUTION", "VERSION", "STATUS", "HOOKS"]
    rows = {line[0]: line for line in lines[1:]}
    assert list(rows) == settings.APIGW_WS["PLUGINS"]
    assert rows[CHAT][1] == "settings"
    assert rows[CHAT][4] == "loaded"
    assert rows[CHAT][5] == "register_handlers"
    assert rows["apigw_ws.builtin_plugins.permissions"][5] == "check_permission"
    assert err == ""


def test_ws_plugins_json_lists_full_hook_names_with_stable_keys():
    rows = json.loads(run("ws_plugins", "--json")[0])
    assert all(list(row) == PLUGIN_KEYS for row in rows)
    chat = by_name(rows)[CHAT]
    assert chat["source"] == "settings"
    assert chat["hooks"] == ["apigw_ws_register_handlers"]
    assert chat["blocked"] is False
    assert chat["status"] == "loaded"
    assert chat["problems"] == []


def test_ws_plugins_marks_a_blocked_plugin_and_lists_no_hooks_for_it():
    with ws_settings(BLOCKED_PLUGINS=[CHAT]):
        rows = by_name(json.loads(run("ws_plugins", "--json")[0]))
        out, _ = run("ws_plugins")
    assert rows[CHAT]["blocked"] is True
    assert rows[CHAT]["status"] == "blocked"
    assert rows[CHAT]["hooks"] == []
    row = next(line for line in table(out) if line[0].strip() == CHAT)
    assert row[4].strip() == "blocked"


def test_ws_plugins_shows_an_object_plugin_with_source_object(ws_plugins):
    class Plugin:
        @apigw_ws.hookimpl
        def apigw_ws_on_connect(self, session):
            pass

    ws_plugins.add(Plugin(), name="extra")
    rows = by_name(json.loads(run("ws_plugins", "--json")[0]))
    assert rows["extra"]["source"] == "object"
    assert rows["extra"]["hooks"] == ["apigw_ws_on_connect"]


# problems


BROKEN = "tests.plugins.no_such_plugin"


@pytest.mark.parametrize("command", ["ws_handlers", "ws_plugins"])
@pytest.mark.parametrize("fmt", [(), ("--json",)])
def test_a_plugin_that_fails_to_import_fails_the_command_after_the_listing(command, fmt):
    with ws_settings(PLUGINS=[*settings.APIGW_WS["PLUGINS"], BROKEN]):
        error, out, err = run_failing(command, *fmt)
    assert BROKEN in str(error)
    assert f"plugin {BROKEN!r}: failed to load: ModuleNotFoundError" in err
    assert CHAT in out  # the working plugins are still listed


@pytest.mark.parametrize("command", ["ws_handlers", "ws_plugins"])
def test_from_the_command_line_a_broken_plugin_still_gets_listed_not_stopped_by_checks(
    command, capsys
):
    # As `manage.py <command>` runs it: the system checks (which report the same plugin
    # as apigw_ws.E010) must not stop the command that is there to diagnose it.
    broken = ws_settings(PLUGINS=[*settings.APIGW_WS["PLUGINS"], BROKEN])
    with broken, pytest.raises(SystemExit) as excinfo:
        ManagementUtility(["manage.py", command]).execute()
    out, err = capsys.readouterr()
    assert excinfo.value.code == 1
    assert CHAT in out
    assert f"CommandError: 1 plugin problem(s), in {BROKEN!r}" in err
    assert "SystemCheckError" not in err


def test_ws_plugins_marks_a_plugin_whose_handler_registration_failed_as_error(ws_plugins):
    class BadRegistration:
        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(self, register):
            register(lambda ctx: None, name="_private")

    ws_plugins.add(BadRegistration(), name="badreg")
    error, out, err = run_failing("ws_plugins", "--json")
    row = by_name(json.loads(out))["badreg"]
    assert row["status"] == "error"
    assert [p for p in row["problems"] if "registered an invalid handler" in p]
    assert "'badreg'" in str(error)
    assert "plugin 'badreg'" in err


def test_ws_plugins_lists_a_plugin_that_failed_to_import_with_status_error():
    with ws_settings(PLUGINS=[*settings.APIGW_WS["PLUGINS"], BROKEN]):
        _, out, _ = run_failing("ws_plugins", "--json")
    rows = by_name(json.loads(out))
    assert rows[BROKEN]["status"] == "error"
    assert rows[BROKEN]["hooks"] == []
    assert "ModuleNotFoundError" in rows[BROKEN]["problems"][0]


def test_ws_plugins_names_the_distribution_of_a_built_in_plugin_even_from_an_editable_install():
    rows = by_name(json.loads(run("ws_plugins", "--json")[0]))
    builtin = rows["apigw_ws.builtin_plugins.permissions"]
    assert builtin["distribution"] == "apigw-ws"
    assert builtin["version"] == apigw_ws.__version__
