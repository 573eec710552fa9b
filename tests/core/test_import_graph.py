"""No two modules of the package import each other, not even through a lazy import.

The graph is read from the source (``tests/core/imports.py``): every ``import`` that can
run, at module level or inside a function, is an edge. A cycle that only closes through
a function-level import still ties the two modules together: neither can be understood,
moved or tested without the other. ``tests/sending/core/test_layout.py`` holds the
sending package's own order on top of this.
"""

from tests.core.imports import Import, cycles, import_graph

APP = "apigw_ws.contrib.django"

#: The lazy imports that close a cycle, each pointing "up" its cycle, and why it stays.
#: The second test fails when an edge listed here no longer closes a cycle: drop it then.
#:
#: The session model's public methods (``WebSocketSession.send_message()``, ``.close()``,
#: ``.mark_disconnected()``, ``WebSocketSession.objects.for_message()`` and the queryset's
#: ``send_message()``) call the services built on the model, and those services need the
#: model class itself, not an instance: the session cache builds its entry layout and
#: compiled read from it, and a fan-out's task, started by ``send_message(background=True)``,
#: reads its sessions by primary key in a worker that has nothing but the fan-out's id. So
#: any import path from the model to them closes a cycle; the only ways around are
#: methods attached to the model from outside its class, or services that look the model
#: up by name (``apps.get_model``), which hide the same dependency instead of removing it.
KNOWN_CYCLE_EDGES = {
    (f"{APP}.models.session", f"{APP}.sending"): "session model -> sending",
    (f"{APP}.models.session", f"{APP}.session_cache"): "session model -> session cache",
}


def without_known_exceptions(graph):
    return {
        source: {t: imp for t, imp in edges.items() if (source, t) not in KNOWN_CYCLE_EDGES}
        for source, edges in graph.items()
    }


def describe(graph, cycle):
    members = set(cycle)
    return "\n".join(
        f"  {source} -> {target}  ({'lazy' if imp.lazy else 'module level'}: {imp})"
        for source in cycle
        for target, imp in graph[source].items()
        if target in members
    )


def test_no_package_modules_import_each_other_in_a_cycle_not_even_lazily():
    graph = without_known_exceptions(import_graph())
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n\n".join(describe(graph, c) for c in found)


def test_every_known_exception_still_closes_a_cycle():
    graph = import_graph()
    parts = cycles(graph)
    stale = [
        f"{source} -> {target}"
        for source, target in KNOWN_CYCLE_EDGES
        if target not in graph.get(source, {})
        or not any(source in part and target in part for part in parts)
    ]
    assert stale == [], "no cycle left through these: drop them from KNOWN_CYCLE_EDGES"


def test_the_django_app_never_imports_a_built_in_plugin():
    # The dependency runs one way: a built-in plugin calls the app's public names.
    graph = import_graph()
    found = [
        str(imp)
        for source, edges in graph.items()
        if source.startswith(f"{APP}.")
        for target, imp in edges.items()
        if target.startswith("apigw_ws.builtin_plugins")
    ]
    assert found == []


def test_the_graph_holds_lazy_and_relative_imports_and_finds_a_cycle_through_them():
    graph = import_graph()
    lazy = graph["apigw_ws.builtin_plugins.tokens"][f"{APP}.token_backend"]
    assert lazy.lazy
    relative = graph[f"{APP}.session_store"][f"{APP}.models"]  # from .models import ...
    assert not relative.lazy
    looped = {
        "a": {"b": Import("a", "b", (), False, 1)},
        "b": {"c": Import("b", "c", (), True, 9)},
        "c": {"a": Import("c", "a", ("x",), True, 5)},
        "d": {"a": Import("d", "a", (), False, 1)},
    }
    assert cycles(looped) == [["a", "b", "c"]]
