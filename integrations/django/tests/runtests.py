"""Runs the Python tests with Django's test runner: python3 tests/runtests.py (from integrations/django)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test.utils import get_runner  # noqa: E402

if __name__ == "__main__":
    django.setup()
    runner = get_runner(settings)(verbosity=2)
    failures = runner.run_tests(["tests"])
    sys.exit(1 if failures else 0)
