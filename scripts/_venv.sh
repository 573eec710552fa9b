# Sourced by scripts/test and scripts/demo: small virtualenv helpers.

# Never prompt (CI has no stdin) and skip pip's "new version" nag.
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# make_venv DIR PYTHON: create DIR with PYTHON unless a working venv of the
# same Python minor version is already there (a pyenv upgrade or a venv made
# by another interpreter leaves a dangling or wrong bin/python), then put it
# first on PATH so plain `python`, `ruff`, `sphinx-build` are the venv's.
make_venv() {
    local dir=$1 py=$2 want
    want=$("$py" -c 'import sys; print(sys.version_info[:2])')
    if [[ "$("$dir/bin/python" -c 'import sys; print(sys.version_info[:2])' 2>/dev/null)" != "$want" ]]; then
        echo "    creating $dir with $("$py" --version 2>&1)"
        rm -rf "$dir"
        "$py" -m venv "$dir"
        "$dir/bin/python" -m pip install -q --upgrade pip
    fi
    dir=$(cd "$dir" && pwd)
    export VIRTUAL_ENV=$dir PATH=$dir/bin:$PATH
}

# pip_install ARGS...: install into the venv made active by make_venv.
pip_install() {
    python -m pip install -q "$@"
}
