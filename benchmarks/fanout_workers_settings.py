"""Django settings of ``fanout_workers.py`` and of the task workers it starts.

Everything that varies comes from the environment the script sets: the PostgreSQL
database, the local gateway's endpoint and the task engine.
"""

import os

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "apigw_ws.contrib.django"]
try:
    import django.tasks  # noqa: F401

    _TASKS = "django.tasks"
except ImportError:
    INSTALLED_APPS.append("django_tasks")
INSTALLED_APPS += ["django_tasks_db", "django_rq", "django_tasks_rq"]
TASKS = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend"},
}
RQ_QUEUES = {"default": {"URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")}}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_PGDATABASE", "apigw_ws_bench_workers"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
    }
}
APIGW_WS = {
    "ENDPOINT_URL": os.environ.get("BENCH_ENDPOINT_URL"),
    "REGION": "us-east-1",
    "TASK_BACKEND": os.environ.get("BENCH_ENGINE", "database"),
    "LOAD_ENTRY_POINTS": False,
}
LOGGING_CONFIG = None
