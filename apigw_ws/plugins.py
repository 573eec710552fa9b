"""The plugin manager: which plugins load, in which order, and what they registered."""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from types import ModuleType
from typing import Any

import attrs
import pluggy

from .errors import ConfigurationError, PluginError
from .handlers import HandlerRegistry
from .hooks import PROJECT_NAME, specs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "apigw_ws"

#: Built-in plugins switched on when ``APIGW_WS["PLUGINS"]`` is not set.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "apigw_ws.builtin_plugins.permissions",
    "apigw_ws.builtin_plugins.validators",
)


@attrs.frozen
class PluginInfo:
    """One plugin that was asked for: where it came from and what it implements."""

    name: str
    source: str  # "settings", "entry point" or "object"
    distribution: str = ""
    version: str = ""
    hooks: tuple[str, ...] = ()
    blocked: bool = False


@attrs.frozen
class Plugins:
    """The result of loading: the manager, the handler registry and what went wrong."""

    manager: pluggy.PluginManager
    registry: HandlerRegistry
    infos: tuple[PluginInfo, ...]
    problems: tuple[PluginError, ...]
    token_backend: Any = None
    rate_limit_store: Any = None

    @property
    def hook(self) -> Any:
        return self.manager.hook


def new_manager() -> pluggy.PluginManager:
    """Return a plugin manager that knows the ``apigw_ws`` hook specs and nothing else."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(specs)
    return manager


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    # Scans every installed distribution (~40 ms): once per process, not once per plugin.
    return metadata.packages_distributions()


def _distribution_of(module: ModuleType | Any) -> tuple[str, str]:
    top = getattr(module, "__name__", type(module).__module__).split(".")[0]
    # An editable install records a .pth file, not its packages, so the mapping misses
    # it; a distribution named like its top-level package (apigw_ws -> apigw-ws) is the
    # usual case and is looked up directly.
    for dist in [*_packages_distributions().get(top, []), top]:
        try:
            return metadata.metadata(dist)["Name"], metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "", ""


#: What to do about a plugin name seen twice, by where the second one came from: remove
#: the duplicate (BLOCKED_PLUGINS would switch the plugin off altogether).
_LISTED_TWICE = {
    "settings": "is listed twice in APIGW_WS['PLUGINS']: remove the second entry"
    " (it is loaded once, from the first)",
    "entry point": "has two entry points of that name in group 'apigw_ws', from two"
    " installed distributions: uninstall one (the first is loaded)",
    "object": "is added twice under that name: add it once (the first is loaded)",
}


class _Loader:
    def __init__(self, blocked: Iterable[str]) -> None:
        self.manager = new_manager()
        self.blocked = frozenset(blocked)
        self.infos: list[PluginInfo] = []
        self.problems: list[PluginError] = []

    def add(self, name: str, source: str, load: Any, dist: tuple[str, str] = ("", "")) -> None:
        if name in self.blocked:
            self.manager.set_blocked(name)
            self.infos.append(PluginInfo(name, source, *dist, blocked=True))
            return
        if self.manager.has_plugin(name):
            self._fail(name, _LISTED_TWICE.get(source, _LISTED_TWICE["settings"]))
            return
        try:
            plugin = load()
            self.manager.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            self._fail(name, f"has an invalid hook implementation: {exc}")
            self.infos.append(PluginInfo(name, source, *dist))
            return
        except Exception as exc:  # any import-time error must name the plugin
            self._fail(name, f"failed to load: {type(exc).__name__}: {exc}")
            self.infos.append(PluginInfo(name, source, *dist))
            return
        if dist == ("", ""):
            dist = _distribution_of(plugin)
        hooks = tuple(sorted(c.name for c in self.manager.get_hookcallers(plugin) or ()))
        self.infos.append(PluginInfo(name, source, *dist, hooks=hooks))

    def _fail(self, name: str, message: str) -> None:
        error = PluginError(name, message)
        logger.error("apigw_ws %s", error)
        self.problems.append(error)

    def check_pending(self) -> None:
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.manager.get_name(exc.plugin) or repr(exc.plugin)
            self._fail(name, f"implements an unknown hook: {exc}")
            self.manager.unregister(exc.plugin)
            self.check_pending()

    def first_result(self, hook_name: str) -> Any:
        """Return the ``firstresult`` hook's answer; a raise is a problem, not a crash.

        These hooks run while Django starts (``AppConfig.ready()``): a store that cannot be
        built from bad settings must become a system-check message, not a traceback.
        """
        try:
            return getattr(self.manager.hook, hook_name)()
        except Exception as exc:
            hook = getattr(self.manager.hook, hook_name)
            culprits = ", ".join(impl.plugin_name for impl in hook.get_hookimpls())
            self._fail(culprits, f"raised in {hook_name}: {type(exc).__name__}: {exc}")
            return None

    def register_handlers(self, registry: HandlerRegistry) -> None:
        for impl in self.manager.hook.apigw_ws_register_handlers.get_hookimpls():
            name = impl.plugin_name
            # Bound positionally: no keyword a plugin passes can claim another plugin's name.
            register = functools.partial(_register_as, registry, name)
            try:
                impl.function(register=register)
            except ConfigurationError as exc:
                self._fail(name, f"registered an invalid handler: {exc}")
            except Exception as exc:
                self._fail(name, f"raised in apigw_ws_register_handlers: {exc!r}")


def _register_as(registry: HandlerRegistry, plugin: str, func: Any, /, **options: Any) -> Any:
    return registry.register(func, plugin=plugin, **options)


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def load_plugins(
    modules: Sequence[str] = DEFAULT_PLUGINS,
    *,
    blocked: Iterable[str] = (),
    load_entry_points: bool = True,
    objects: Iterable[tuple[str, Any]] = (),
) -> Plugins:
    """Load plugins and collect their handlers; return everything, problems included.

    Order: ``modules`` (built-ins and settings), then entry points of group ``apigw_ws``,
    then ``objects`` (``(name, plugin)`` pairs, for tests). A plugin whose name is in
    ``blocked`` is never imported. Problems are returned, not raised, so that Django's
    system checks can report every one of them at once.
    """
    loader = _Loader(blocked)
    if isinstance(modules, str):
        # Iterating it would try to import every character: one clear problem instead.
        loader._fail(
            modules, "is a string: list the plugins, e.g. PLUGINS = [" + repr(modules) + "]"
        )
        modules = ()
    for dotted in modules:
        loader.add(dotted, "settings", lambda d=dotted: importlib.import_module(d))
    if load_entry_points:
        for ep in _entry_points():
            dist = (ep.dist.name, ep.dist.version) if ep.dist else ("", "")
            loader.add(ep.name, "entry point", ep.load, dist)
    for name, obj in objects:
        loader.add(name, "object", lambda o=obj: o)
    loader.check_pending()
    registry = HandlerRegistry()
    loader.register_handlers(registry)
    token_backend = loader.first_result("apigw_ws_token_backend")
    rate_limit_store = loader.first_result("apigw_ws_rate_limit_store")
    return Plugins(
        manager=loader.manager,
        registry=registry,
        infos=tuple(loader.infos),
        problems=tuple(loader.problems),
        token_backend=token_backend,
        rate_limit_store=rate_limit_store,
    )
