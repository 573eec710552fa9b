"""Settings of the apigw_ws example project: for local development only, never deploy them."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "example-project-insecure-dev-key-do-not-deploy"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "apigw_ws.contrib.django",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# EXAMPLE_DATABASE: another SQLite file (the browser tests use a fresh one each run).
# Concurrent connects write at once: WAL lets readers run beside the writer, IMMEDIATE
# takes the write lock when a transaction starts (a deferred read-then-write cannot wait
# for it and fails with "database is locked"), and the timeout is how long to wait for it.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DATABASE") or BASE_DIR / "db.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
STATIC_URL = "static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/chat/"
LOGOUT_REDIRECT_URL = "login"

APIGW_WS = {
    # API Gateway (or `manage.py ws_devgateway`) sends this in the X-Apigw-Ws-Secret header.
    # The default is for local development only: set the environment variable anywhere else.
    "GATEWAY_SECRET": os.environ.get(
        "APIGW_WS_GATEWAY_SECRET", "dev-only-gateway-secret-never-use-this-in-production"
    ),
    # Installed plugins (`pip install -e examples/plugin`) load through their entry points.
    "LOAD_ENTRY_POINTS": True,
    # The chat (examples/project/chat): connect tokens, room access rules, the client's
    # heartbeat, message recovery after a reconnect, and the chat's own handlers and
    # hooks in chat/ws.py.
    "PLUGINS": [
        "apigw_ws.builtin_plugins.permissions",
        "apigw_ws.builtin_plugins.validators",
        "apigw_ws.builtin_plugins.tokens",
        "apigw_ws.builtin_plugins.channels",
        "apigw_ws.builtin_plugins.heartbeat",
        "apigw_ws.builtin_plugins.recovery",
        "chat.ws",
    ],
    # Only the rooms `manage.py chat_setup` lists in ChannelPermission may be joined.
    "CHANNELS": {"ALLOW_UNLISTED": False},
    # Connect attempts per source IP and minute: everyone is 127.0.0.1 in the demo.
    "RATE_LIMIT": {"MAX_ATTEMPTS": int(os.environ.get("EXAMPLE_CONNECTS_PER_MINUTE", "120"))},
    # Unspent connect tokens a user may hold per minute (the package default: 20). The
    # client reuses a token whose connect failed, and a spent token no longer counts.
    "TOKENS": {"MAX_PER_MINUTE": int(os.environ.get("EXAMPLE_TOKENS_PER_MINUTE", "20"))},
    # ctx.reply() and send_message() post to the local gateway (`manage.py ws_devgateway`,
    # scripts/demo) instead of AWS. APIGW_WS_ENDPOINT_URL="" sends to the real API Gateway.
    "ENDPOINT_URL": os.environ.get("APIGW_WS_ENDPOINT_URL", "http://127.0.0.1:8001") or None,
    "REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
}

if APIGW_WS["ENDPOINT_URL"] and not (
    os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")
):
    # boto3 signs every request, so it needs credentials; the local gateway checks none.
    os.environ["AWS_ACCESS_KEY_ID"] = "local"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"
