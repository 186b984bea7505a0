import datetime
import socket
import urllib.request
from unittest import mock

from django.contrib.auth.models import User
from django.test import TestCase, override_settings

from reflinks_django.client import Client, ReflinksError

from .stub_api import StubApi

REFERRAL = {"id": 7, "user_id": "1", "event": "signup", "link": "alice-1", "referrer_user_id": "alice",
            "hit_id": "h", "created_at": "2026-11-24T09:00:00.000Z"}


class ClientTests(TestCase):
    def setUp(self):
        self.api = StubApi()
        self.addCleanup(self.api.close)
        self.user = User.objects.create_user("dee")
        self.user.date_joined = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.timezone.utc)
        self.user.save()
        self.client_ = Client(url=self.api.url + "/", api_token="tok", timeout=1, retries=2, backoff=0.01)

    def test_confirm_posts_the_user_event_and_signup_time(self):
        self.api.answers = [(201, {"created": True, "referral": REFERRAL})]
        result = self.client_.confirm(self.user, "purchase")
        self.assertEqual(result, {"created": True, "referral": REFERRAL})
        [call] = self.api.calls
        self.assertEqual((call["method"], call["path"]), ("POST", "/_reflinks/confirm"))
        self.assertEqual(call["authorization"], "Bearer tok")
        self.assertEqual(
            call["body"],
            {"user_id": str(self.user.pk), "event": "purchase", "signed_up_at": "2026-11-24T09:00:00+00:00"},
        )

    def test_a_user_who_was_not_referred_is_none(self):
        self.api.answers = [(404, {"error": {"code": "no_referral", "message": "no qualifying hit"}})]
        self.assertIsNone(self.client_.confirm(self.user))
        self.assertIsNone(self.client_.conversion(self.user, "in_1", 800, "USD"))

    def test_a_5xx_is_retried_and_the_retry_answers(self):
        self.api.answers = [
            (503, {"error": {"code": "unavailable", "message": "D1"}}),
            (200, {"created": False, "referral": REFERRAL}),
        ]
        self.assertEqual(self.client_.confirm(self.user)["referral"]["id"], 7)
        self.assertEqual(len(self.api.calls), 2)
        self.assertEqual(self.api.calls[0]["body"], self.api.calls[1]["body"])

    def test_a_timeout_is_retried_then_raised(self):
        self.api.answers = ["hang"]
        client = Client(url=self.api.url, api_token="tok", timeout=0.2, retries=1, backoff=0.01)
        with self.assertRaises(OSError):
            client.user_summary(self.user)
        self.assertEqual(len(self.api.calls), 2)

    def test_a_read_timeout_before_python_3_10_is_retried(self):
        # Before 3.10 a read timeout raises socket.timeout, an OSError that is not TimeoutError;
        # since, socket.timeout is TimeoutError. Stand in the old class to test the old behaviour.
        class LegacySocketTimeout(OSError):
            pass

        real_urlopen = urllib.request.urlopen
        calls = []

        def urlopen(request, timeout):
            calls.append(request.full_url)
            if len(calls) == 1:
                raise LegacySocketTimeout("timed out")
            return real_urlopen(request, timeout=timeout)

        self.api.answers = [(200, {"created": False, "referral": REFERRAL})]
        with mock.patch.object(socket, "timeout", LegacySocketTimeout), mock.patch.object(
            urllib.request, "urlopen", urlopen
        ):
            self.assertEqual(self.client_.confirm(self.user)["referral"]["id"], 7)
        self.assertEqual(len(calls), 2)
        self.assertEqual(len(self.api.calls), 1)

    def test_a_4xx_is_not_retried_and_names_the_code(self):
        self.api.answers = [(409, {"error": {"code": "conflict", "message": "external_id used"}})]
        with self.assertRaises(ReflinksError) as raised:
            self.client_.conversion(self.user, "in_1", 800, "USD")
        self.assertEqual((raised.exception.status, raised.exception.code), (409, "conflict"))
        self.assertEqual(len(self.api.calls), 1)

    def test_conversion_reverse_and_summary_call_their_routes(self):
        self.api.answers = [(201, {"created": True, "conversion": {"external_id": "in/1"}})]
        self.client_.conversion(self.user, "in/1", 800, "EUR")
        self.client_.reverse("in/1", "re_1", 300)
        self.client_.user_summary(self.user)
        self.assertEqual(
            [(c["method"], c["path"]) for c in self.api.calls],
            [
                ("POST", "/_reflinks/conversions"),
                ("POST", "/_reflinks/conversions/in%2F1/reverse"),
                ("GET", f"/_reflinks/users/{self.user.pk}"),
            ],
        )
        self.assertEqual(
            self.api.calls[0]["body"],
            {"user_id": str(self.user.pk), "external_id": "in/1", "amount": 800, "currency": "EUR",
             "event": "signup", "signed_up_at": "2026-11-24T09:00:00+00:00"},
        )
        self.assertEqual(self.api.calls[1]["body"], {"reversal_id": "re_1", "amount": 300})

    @override_settings(USE_TZ=False, TIME_ZONE="Europe/Paris")
    def test_a_naive_date_joined_is_read_in_the_sites_zone(self):
        self.api.answers = [(201, {"created": True, "referral": REFERRAL})]
        self.user.date_joined = datetime.datetime(2026, 7, 1, 12, 0)
        self.client_.confirm(self.user)
        self.assertEqual(self.api.calls[0]["body"]["signed_up_at"], "2026-07-01T12:00:00+02:00")

    def test_settings_are_required(self):
        with override_settings(REFLINKS_URL=""), self.assertRaises(ValueError):
            Client()
