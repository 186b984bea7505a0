"""Receiving reflinks webhooks: Standard Webhooks signatures, checked with the standard library."""

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from .signals import webhook_received

#: How far ``webhook-timestamp`` may be from now, in seconds, as Standard Webhooks recommends:
#: an older delivery is a replay.
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    pass


def _key(secret):
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        raise WebhookVerificationError("the webhook secret is not base64") from None


def verify(secret, headers, body, now=None):
    """Checks a delivery and returns its parsed JSON body, or raises WebhookVerificationError.

    ``headers`` maps ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (any case);
    ``body`` is the raw bytes. The signature header may hold several space-separated ``v1,...``
    signatures (during a secret rotation): one that matches is enough.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    timestamp = lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("webhook-timestamp is more than 5 minutes away from now")
    if isinstance(body, str):
        body = body.encode()
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            return json.loads(body)
    raise WebhookVerificationError("no matching signature")


@csrf_exempt
def webhook_view(request):
    """POST-only endpoint for reflinks deliveries: 204 once every receiver of
    :data:`~reflinks_django.signals.webhook_received` has run, 400 for a delivery that fails
    verification."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    headers = {name: request.headers.get(name, "") for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    try:
        payload = verify(settings.REFLINKS_WEBHOOK_SECRET, headers, request.body)
    except (WebhookVerificationError, ValueError):
        return HttpResponse("invalid webhook", status=400, content_type="text/plain")
    webhook_received.send(
        sender=webhook_view,
        event_type=payload.get("type"),
        data=payload.get("data"),
        webhook_id=headers["webhook-id"],
        payload=payload,
    )
    return HttpResponse(status=204)
