"""The core (everything outside ``apigw_ws.contrib`` and ``apigw_ws.testing``) imports no Django.

Not at module level (checked in a fresh interpreter: this test process has long since
loaded Django), and not lazily either except through the Django app's declared public
names: a function of the core may import from ``apigw_ws.contrib.*`` only names that the
module lists in ``__all__`` (see the docs' API reference, "The Django app's public
modules"). The built-in plugins, the core's hook modules, import no Django at all.
"""

import subprocess
import sys

from tests.core.imports import PACKAGE, Import, declared_public, imports, modules

DJANGO_SIDE = {"contrib", "testing"}


def core_modules():
    for name, path in modules().items():
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in DJANGO_SIDE or parts[-1] == "__main__":
            continue
        yield name


def test_importing_every_core_module_loads_no_django():
    modules = list(core_modules())
    assert "apigw_ws.sending.sender" in modules
    assert "apigw_ws.builtin_plugins.login_binding" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={}
    )
    assert result.stdout.strip() == "[]"


def reaches_the_django_app(imp):
    return imp.module == "apigw_ws.contrib" or imp.module.startswith("apigw_ws.contrib.")


def problems(imp, paths):
    """Return what is wrong with the core's import ``imp`` of the Django app (``[]``: nothing)."""
    found = []
    if not imp.lazy:
        found.append("at module level")
    if any(part.startswith("_") for part in imp.module.split(".")):
        found.append("a private module")
    if not imp.names:
        found.append("imports a module, not names it declares public")
    path = paths.get(imp.module)
    public = declared_public(path) if path is not None else None
    if public is None:
        found.append("from a module without __all__")
        public = frozenset()
    found += [f"{name!r} is not in its __all__" for name in imp.names if name not in public]
    found += [f"{name!r} is private" for name in imp.names if name.startswith("_")]
    return found


def core_imports_of_the_django_app():
    paths = modules()
    for name in core_modules():
        for imp in imports(paths[name]):
            if reaches_the_django_app(imp):
                yield imp


def test_the_core_reaches_the_django_app_only_lazily_and_through_declared_public_names():
    found = list(core_imports_of_the_django_app())
    paths = modules()
    wrong = [f"{imp}: {'; '.join(problems(imp, paths))}" for imp in found if problems(imp, paths)]
    assert wrong == []
    # The check looked at the lazy imports, not at nothing.
    assert any(
        imp.source == "apigw_ws.builtin_plugins.tokens"
        and imp.module == "apigw_ws.contrib.django.token_backend"
        for imp in found
    )


def test_the_public_names_check_refuses_module_level_private_and_undeclared_imports(tmp_path):
    (tmp_path / "declared.py").write_text('__all__ = ["shown"]\n')
    (tmp_path / "undeclared.py").write_text("def shown(): pass\n")
    paths = {"app.declared": tmp_path / "declared.py", "app.undeclared": tmp_path / "undeclared.py"}

    def check(module, names, lazy=True):
        return problems(Import("apigw_ws.x", module, names, lazy, 1), paths)

    assert check("app.declared", ("shown",)) == []
    assert check("app.declared", ("shown",), lazy=False) == ["at module level"]
    assert check("app.declared", ("hidden",)) == ["'hidden' is not in its __all__"]
    assert "'_hidden' is private" in check("app.declared", ("_hidden",))
    assert check("app.undeclared", ("shown",))[0] == "from a module without __all__"
    assert "imports a module, not names it declares public" in check("app.declared", ())


def test_the_built_in_plugins_import_no_django_not_even_lazily():
    paths = modules()
    found = [
        str(imp)
        for name in core_modules()
        if name.startswith("apigw_ws.builtin_plugins.")
        for imp in imports(paths[name])
        if imp.module == "django" or imp.module.startswith("django.")
    ]
    assert found == []
