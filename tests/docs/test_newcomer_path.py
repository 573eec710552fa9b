"""The path a newcomer takes (README, quickstart, writing-plugins, testing) has what they need.

The demo's ports, how a script talks to the demo, the order to read the pages in, and
the settings module a plugin package's tests need.
"""

import re

from .rst import ROOT, code_blocks, headings, page

README = (ROOT / "README.md").read_text()
DEMO = (ROOT / "scripts" / "demo").read_text()


def demo_setting(name):
    return re.search(rf"\b{name}=(\S+)", DEMO)[1]


def test_the_readme_names_the_ports_the_demo_listens_on():
    host, port, gateway = demo_setting("HOST"), demo_setting("PORT"), demo_setting("GATEWAY_PORT")
    assert f"**{host}:{port}**" in README
    assert f"**{host}:{gateway}**" in README


def test_the_readme_says_how_a_script_connects_and_links_the_recipes():
    section = README[README.index("A client that is not a browser") : README.index("## Next")]
    for step in ("/ws/token", "X-CSRFToken", "apigw_ws.token.<token>", "Origin", "sessionid"):
        assert step in section, step
    assert "(docs/tokens.rst)" in section
    assert "(docs/quickstart.rst)" in section


def test_the_quickstart_script_talks_to_the_demos_ports():
    assert "From a script" in headings(page("quickstart"))
    [script] = [b for b in code_blocks(page("quickstart"), "python") if "ws_connect" in b]
    port, gateway = demo_setting("PORT"), demo_setting("GATEWAY_PORT")
    assert f'SITE = "http://127.0.0.1:{port}"' in script
    assert f'GATEWAY = "ws://127.0.0.1:{gateway}/local"' in script
    assert 'f"apigw_ws.token.{token}"' in script


def test_the_readme_orders_the_pages_a_plugin_author_reads():
    steps = README[README.index("## Next steps") :]
    links = re.findall(r"^\d\. \[docs/([\w-]+)\.rst\]", steps, re.MULTILINE)
    assert links == ["quickstart", "installation", "writing-plugins", "testing"]


def test_the_testing_page_shows_the_scaffolds_own_test_settings():
    text = page("testing")
    included = re.findall(r"^\.\. literalinclude:: \.\./(\S+)$", text, re.MULTILINE)
    template = "apigw_ws/contrib/django/management/plugin_template/tests"
    assert f"{template}/settings.py.tmpl" in included
    assert f"{template}/urls.py.tmpl" in included
    assert 'DJANGO_SETTINGS_MODULE = "tests.settings"' in text
    pyproject = (ROOT / template).parent.joinpath("pyproject.toml.tmpl").read_text()
    assert 'DJANGO_SETTINGS_MODULE = "tests.settings"' in pyproject
    assert 'pythonpath = ["."]' in text
    assert 'pythonpath = ["."]' in pyproject
