"""A minimal Django project to test the example plugin in."""

SECRET_KEY = "tests-only-not-secret"
USE_TZ = True
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "apigw_ws.contrib.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The plugin loads through its entry point: `pip install -e examples/plugin` first.
TEST_SECRET = "example-secret-" + "x" * 32
APIGW_WS = {"GATEWAY_SECRET": TEST_SECRET, "REGION": "us-east-1"}
