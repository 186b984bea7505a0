import io

from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

from .stub_api import StubApi


class ReportCommandTests(TestCase):
    def setUp(self):
        self.api = StubApi()
        self.addCleanup(self.api.close)

    def run_report(self, *args):
        out = io.StringIO()
        with override_settings(REFLINKS_URL=self.api.url, REFLINKS_API_TOKEN="tok"):
            call_command("reflinks_report", *args, stdout=out)
        return out.getvalue()

    def test_prints_one_line_per_link(self):
        self.api.answers = [(200, {"rows": [
            {"identifier": "alice-1", "user_id": "3", "hits": 12, "visitors": 9, "users": 4, "confirmed": 2},
            {"identifier": "bob", "user_id": None, "hits": 1, "visitors": 1, "users": 0, "confirmed": 0},
        ]})]
        lines = self.run_report("--from", "2026-11-01", "--to", "2026-11-30").splitlines()
        self.assertEqual(lines[0].split(), ["identifier", "user_id", "hits", "visitors", "users", "confirmed"])
        self.assertEqual(lines[1].split(), ["alice-1", "3", "12", "9", "4", "2"])
        self.assertEqual(lines[2].split(), ["bob", "1", "1", "0", "0"])
        self.assertEqual(self.api.calls[0]["path"], "/_reflinks/reports/links?from=2026-11-01&to=2026-11-30")

    def test_an_api_error_is_a_command_error(self):
        self.api.answers = [(401, {"error": {"code": "unauthorized", "message": "bad token"}})]
        with self.assertRaises(CommandError):
            self.run_report()
