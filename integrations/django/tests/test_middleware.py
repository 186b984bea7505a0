import hashlib
import hmac

from django.contrib.auth.models import User
from django.test import TestCase, override_settings

TOKEN = "test-token"


def signature(value):
    return hmac.new(TOKEN.encode(), value.encode(), hashlib.sha256).hexdigest()


@override_settings(REFLINKS_API_TOKEN=TOKEN)
class ReflinksUserMiddlewareTests(TestCase):
    def test_a_signed_out_visitor_gets_no_header(self):
        response = self.client.get("/")
        self.assertEqual(response.content, b"Hello, nobody")
        self.assertNotIn("Reflinks-User", response)
        self.assertNotIn("Reflinks-User-Signature", response)

    def test_the_login_response_names_the_user_signed(self):
        user = User.objects.create_user("ann", password="pw")
        response = self.client.post("/login", {"username": "ann", "password": "pw"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Reflinks-User"], str(user.pk))
        self.assertEqual(response["Reflinks-User-Signature"], signature(str(user.pk)))

    def test_every_response_to_a_signed_in_user_names_them(self):
        user = User.objects.create_user("bob", password="pw")
        self.client.force_login(user)
        for _ in range(2):
            response = self.client.get("/")
            self.assertEqual(response.content, b"Hello, bob")
            self.assertEqual(response["Reflinks-User"], str(user.pk))
            self.assertEqual(response["Reflinks-User-Signature"], signature(str(user.pk)))

    def test_the_logout_response_sends_an_empty_signed_value(self):
        self.client.force_login(User.objects.create_user("cy", password="pw"))
        response = self.client.post("/logout")
        self.assertEqual(response["Reflinks-User"], "")
        self.assertEqual(response["Reflinks-User-Signature"], signature(""))
        # Signed out now: nothing more is sent.
        self.assertNotIn("Reflinks-User", self.client.get("/"))

    def test_the_value_is_percent_encoded_utf8(self):
        from reflinks_django.signing import user_header_value

        self.assertEqual(user_header_value("böb"), "b%C3%B6b")
        self.assertEqual(user_header_value(42), "42")
        self.assertEqual(user_header_value("a/b c"), "a%2Fb%20c")

    @override_settings(REFLINKS_API_TOKEN="")
    def test_without_a_token_the_site_refuses_to_start(self):
        from django.core.exceptions import ImproperlyConfigured

        from reflinks_django.middleware import ReflinksUserMiddleware

        with self.assertRaises(ImproperlyConfigured):
            ReflinksUserMiddleware(lambda request: None)


VALUE = "link=alice-1; referrer=alice; reward=20%25%20off; at=2026-12-01T09%3A00%3A00.000Z"


@override_settings(REFLINKS_API_TOKEN=TOKEN)
class ReflinksReferralTests(TestCase):
    def referral(self, **headers):
        return self.client.get("/referral", **headers).json()["referral"]

    def test_a_verified_header_becomes_request_reflinks_referral(self):
        self.assertEqual(
            self.referral(HTTP_REFLINKS_REFERRAL=VALUE, HTTP_REFLINKS_REFERRAL_SIGNATURE=signature(VALUE)),
            {"link": "alice-1", "referrer": "alice", "reward": "20% off", "at": "2026-12-01T09:00:00.000Z"},
        )

    def test_referrer_and_reward_are_none_when_the_header_leaves_them_out(self):
        value = "link=x; at=2026-12-01T09%3A00%3A00.000Z"
        self.assertEqual(
            self.referral(HTTP_REFLINKS_REFERRAL=value, HTTP_REFLINKS_REFERRAL_SIGNATURE=signature(value)),
            {"link": "x", "referrer": None, "reward": None, "at": "2026-12-01T09:00:00.000Z"},
        )

    def test_no_header_is_none(self):
        self.assertIsNone(self.referral())

    def test_a_forged_or_unsigned_header_is_none(self):
        other = hmac.new(b"another-token", VALUE.encode(), hashlib.sha256).hexdigest()
        for headers in (
            {"HTTP_REFLINKS_REFERRAL": VALUE},
            {"HTTP_REFLINKS_REFERRAL": VALUE, "HTTP_REFLINKS_REFERRAL_SIGNATURE": other},
            {"HTTP_REFLINKS_REFERRAL": VALUE, "HTTP_REFLINKS_REFERRAL_SIGNATURE": signature(VALUE).upper()},
            {
                "HTTP_REFLINKS_REFERRAL": VALUE.replace("alice", "mallory"),
                "HTTP_REFLINKS_REFERRAL_SIGNATURE": signature(VALUE),
            },
        ):
            with self.subTest(headers=headers):
                self.assertIsNone(self.referral(**headers))

    def test_a_signed_value_that_is_not_utf8_is_none(self):
        value = "link=x; reward=%FF; at=2026-12-01T09%3A00%3A00.000Z"
        self.assertIsNone(
            self.referral(HTTP_REFLINKS_REFERRAL=value, HTTP_REFLINKS_REFERRAL_SIGNATURE=signature(value))
        )
