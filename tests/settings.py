"""Settings of the test suite; ``APIGW_WS_TEST_DB=postgres`` runs it on PostgreSQL."""

import os
import tempfile

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Read by live_server's static files handler, which fails on every request without it.
STATIC_URL = "static/"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "apigw_ws.contrib.django",
]

# Background sends (tests/sending, tests/fanout): Django's Tasks framework, or its backport
# on 5.2, with the database and RQ backends that the tests run real worker processes of.
try:
    import django.tasks  # noqa: F401

    _TASKS_PACKAGE = "django.tasks"
except ImportError:
    _TASKS_PACKAGE = "django_tasks"
    INSTALLED_APPS.append("django_tasks")
INSTALLED_APPS += ["django_tasks_db", "django_rq", "django_tasks_rq"]
TASKS = {
    "default": {"BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    # The broker-based engine that tests/fanout kills workers of: RQ on Redis.
    "rq": {"BACKEND": "django_tasks_rq.RQBackend"},
}
# Redis database 4, so that other projects' tests on the same Redis never see these jobs.
RQ_QUEUES = {"default": {"URL": os.environ.get("APIGW_WS_TEST_RQ_URL", "redis://127.0.0.1:6379/4")}}

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

DB = os.environ.get("APIGW_WS_TEST_DB", "sqlite")
if DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "apigw_ws"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    }
elif DB == "sqlite":
    # The test database is a file, not ":memory:": live_server (tests/devgateway) serves
    # requests on many threads, which would all share the one in-memory connection.
    _sqlite_test_file = os.path.join(tempfile.gettempdir(), f"apigw_ws_test_{os.getpid()}.db")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "TEST": {"NAME": _sqlite_test_file},
            # Many live_server threads write at once: wait for the lock rather than fail,
            # and take it when a transaction starts (no deferred-to-write upgrade errors).
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL",
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
else:
    raise RuntimeError(f"APIGW_WS_TEST_DB must be 'sqlite' or 'postgres', not {DB!r}")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

TEST_GATEWAY_SECRET = "s" * 40
APIGW_WS = {
    "GATEWAY_SECRET": TEST_GATEWAY_SECRET,
    "PLUGINS": [
        "apigw_ws.builtin_plugins.permissions",
        "apigw_ws.builtin_plugins.validators",
        "tests.plugins.chat",
    ],
    # The example plugin package is installed in CI; tests that want it turn it on.
    "LOAD_ENTRY_POINTS": False,
    "REGION": "us-east-1",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django.request": {"handlers": ["null"], "propagate": True}},
}
