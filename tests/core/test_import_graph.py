"""No two modules of the package import each other, not even through a lazy import.

The graph is read from the source (``tests/core/imports.py``): every ``import`` that can
run, at module level or inside a function, is an edge. A cycle that only closes through
a function-level import still ties the two modules together: neither can be understood,
moved or tested without the other. ``tests/sending/core/test_layout.py`` holds the
sending package's own order on top of this.
"""

from tests.core.imports import Import, cycles, import_graph

APP = "apigw_ws.contrib.django"

#: Edges that close a cycle in the tree this test was written in, each the one lazy
#: import that points "up" its cycle. Fix the cycle, then drop its edge here: the second
#: test fails while an edge listed here no longer closes a cycle.
KNOWN_CYCLE_EDGES = {
    # The Django app's models call up into the services built on them:
    # WebSocketSessionQuerySet.send_message() / WebSocketSession.close() into sending,
    # WebSocketSession.mark_disconnected() into the session cache.
    (f"{APP}.models.session", f"{APP}.sending"): "models -> sending",
    (f"{APP}.models.session", f"{APP}.session_cache"): "models -> session cache",
    # send_to_sessions(background=True) starts a fan-out, and the fan-out sends with
    # send_now(); send_to_channel() stamps through recovery, which reads the models.
    (f"{APP}.sending", f"{APP}.fanout"): "sending -> fan-out",
    (f"{APP}.sending", f"{APP}.recovery"): "sending -> recovery",
    # start_fanout() enqueues the task that runs run_fanout().
    (f"{APP}.fanout", f"{APP}.tasks"): "fan-out -> its task",
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
