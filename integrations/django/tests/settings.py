"""A tiny Django site that uses reflinks_django, for the tests (and the end-to-end test)."""

import os

SECRET_KEY = "reflinks-django-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.site"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "reflinks_django",
    "tests",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "reflinks_django.middleware.ReflinksUserMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("REFLINKS_TEST_DB", ":memory:"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_X_FORWARDED_HOST = True

REFLINKS_URL = os.environ.get("REFLINKS_URL", "http://127.0.0.1:9")
REFLINKS_API_TOKEN = os.environ.get("REFLINKS_API_TOKEN", "test-token")
REFLINKS_WEBHOOK_SECRET = os.environ.get(
    "REFLINKS_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)
