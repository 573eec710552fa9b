from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apigw_ws.contrib.django.runtime import get_plugins


def index(request: HttpRequest) -> HttpResponse:
    """Say what this project is and list the handlers a message can reach."""
    plugins = get_plugins()
    context = {
        "handlers": list(plugins.registry),
        "plugins": plugins.infos,
        "problems": plugins.problems,
    }
    return render(request, "index.html", context)
