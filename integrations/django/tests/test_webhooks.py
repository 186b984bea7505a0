import base64
import hashlib
import hmac
import json
import time

from django.test import TestCase, override_settings

from reflinks_django.signals import webhook_received
from reflinks_django.webhooks import WebhookVerificationError, verify

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def sign(msg_id, timestamp, body, secret=SECRET):
    key = base64.b64decode(secret[len("whsec_"):])
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


BODY = json.dumps({"type": "referral.confirmed", "timestamp": "2026-11-24T09:00:00.000Z",
                   "data": {"id": 7, "user_id": "42"}}).encode()


@override_settings(REFLINKS_WEBHOOK_SECRET=SECRET)
class WebhookViewTests(TestCase):
    def setUp(self):
        self.received = []

        def receiver(sender, **kwargs):
            self.received.append(kwargs)

        webhook_received.connect(receiver, weak=False, dispatch_uid="test")
        self.addCleanup(webhook_received.disconnect, dispatch_uid="test")

    def post(self, body=BODY, msg_id="evt_1", timestamp=None, signature=None):
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        signature = sign(msg_id, timestamp, body) if signature is None else signature
        return self.client.post(
            "/reflinks/webhook/", body, content_type="application/json",
            HTTP_WEBHOOK_ID=msg_id, HTTP_WEBHOOK_TIMESTAMP=timestamp, HTTP_WEBHOOK_SIGNATURE=signature,
        )

    def test_a_signed_delivery_sends_the_signal(self):
        response = self.post()
        self.assertEqual(response.status_code, 204)
        [event] = self.received
        self.assertEqual(event["event_type"], "referral.confirmed")
        self.assertEqual(event["data"], {"id": 7, "user_id": "42"})
        self.assertEqual(event["webhook_id"], "evt_1")

    def test_one_matching_signature_among_several_is_enough(self):
        timestamp = str(int(time.time()))
        other = "v1," + base64.b64encode(b"x" * 32).decode()
        response = self.post(timestamp=timestamp, signature=f"{other} {sign('evt_1', timestamp, BODY)}")
        self.assertEqual(response.status_code, 204)

    def test_a_wrong_signature_is_refused_and_sends_nothing(self):
        timestamp = str(int(time.time()))
        for bad in [sign("evt_1", timestamp, BODY + b" "), sign("evt_2", timestamp, BODY),
                    sign("evt_1", timestamp, BODY, "whsec_" + base64.b64encode(b"z" * 32).decode()),
                    "v2," + sign("evt_1", timestamp, BODY)[3:], ""]:
            self.assertEqual(self.post(timestamp=timestamp, signature=bad).status_code, 400, bad)
        self.assertEqual(self.received, [])

    def test_a_timestamp_more_than_five_minutes_off_is_refused(self):
        now = int(time.time())
        self.assertEqual(self.post(timestamp=str(now - 301)).status_code, 400)
        self.assertEqual(self.post(timestamp=str(now + 301)).status_code, 400)
        self.assertEqual(self.post(timestamp=str(now - 290)).status_code, 204)

    def test_a_receiver_that_raises_makes_it_answer_500_so_reflinks_retries(self):
        def fail(sender, **kwargs):
            raise RuntimeError("database down")

        webhook_received.connect(fail, weak=False, dispatch_uid="fail")
        self.addCleanup(webhook_received.disconnect, dispatch_uid="fail")
        self.client.raise_request_exception = False
        self.assertEqual(self.post().status_code, 500)

    def test_only_post(self):
        self.assertEqual(self.client.get("/reflinks/webhook/").status_code, 405)

    def test_verify_returns_the_payload(self):
        headers = {"Webhook-Id": "m", "Webhook-Timestamp": "1000", "Webhook-Signature": sign("m", "1000", BODY)}
        self.assertEqual(verify(SECRET, headers, BODY, now=1000)["type"], "referral.confirmed")
        with self.assertRaises(WebhookVerificationError):
            verify(SECRET, headers, BODY, now=1301)
