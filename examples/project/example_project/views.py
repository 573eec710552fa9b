import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apigw_ws.contrib.django.runtime import get_plugins

#: ``literal`` in a docstring: shown as code on the page, not as raw backticks.
_LITERAL = re.compile(r"``(.+?)``")


def _parts(text: str) -> list[dict[str, Any]]:
    """Split ``text`` into plain and code parts (the template escapes both)."""
    pieces = _LITERAL.split(text or "")
    return [{"text": piece, "code": bool(i % 2)} for i, piece in enumerate(pieces) if piece]


def index(request: HttpRequest) -> HttpResponse:
    """Say what this project is and list the handlers a message can reach."""
    plugins = get_plugins()
    handlers = [
        {"handler": handler, "description": _parts(handler.description)}
        for handler in plugins.registry
    ]
    context = {"handlers": handlers, "plugins": plugins.infos, "problems": plugins.problems}
    return render(request, "index.html", context)
