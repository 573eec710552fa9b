"""Settings of a project that still runs django-aws-api-gateway-websockets 4.1.0.

Used by ``incumbent_rows.py`` in a subprocess: it migrates the incumbent's real app into the
database the test process uses (given as JSON in ``INCUMBENT_DATABASE``) and writes rows
through its models. Our app is not installed here: the two cannot share a project.
"""

import json
import os

SECRET_KEY = "incumbent-test-only"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_aws_api_gateway_websockets",
]
DATABASES = {"default": json.loads(os.environ["INCUMBENT_DATABASE"])}
WEBSOCKETS = {"push_changes_to_aws": False}
