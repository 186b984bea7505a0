"""A client for the reflinks API, on urllib from the standard library.

Every call it makes is idempotent on the worker's side (a confirmation is created once per user and
event, a conversion once per ``external_id``, a reversal once per ``reversal_id``; reads change
nothing), so a call that timed out or met a 5xx is simply made again: a retry never counts twice.
"""

import json
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils import timezone

#: Answers worth another try: the worker or D1 was briefly unavailable, or the network failed.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ReflinksError(Exception):
    """The API answered an error: ``status``, ``code`` (``"conflict"``...), ``message``."""

    def __init__(self, status, code, message):
        super().__init__(f"reflinks answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def user_id(user):
    """The id reflinks knows a user by: the primary key as text (what the middleware sends)."""
    return str(getattr(user, "pk", user))


def signed_up_at(user):
    """``user.date_joined`` as ISO-8601 with an offset (a naive one is read in Django's zone)."""
    joined = user.date_joined
    if timezone.is_naive(joined):
        joined = timezone.make_aware(joined, timezone.get_default_timezone())
    return joined.isoformat()


class Client:
    """``Client()`` reads ``REFLINKS_URL`` and ``REFLINKS_API_TOKEN`` from the settings.

    ``timeout`` is per attempt, in seconds; ``retries`` how many more attempts a network error, a
    timeout, 429 or a 5xx gets, ``backoff`` seconds apart, doubling.
    """

    def __init__(self, url=None, api_token=None, timeout=10, retries=2, backoff=0.5):
        self.url = (url or getattr(settings, "REFLINKS_URL", "")).rstrip("/")
        self.api_token = api_token or getattr(settings, "REFLINKS_API_TOKEN", "")
        if not self.url or not self.api_token:
            raise ValueError("reflinks: set REFLINKS_URL and REFLINKS_API_TOKEN")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def request(self, method, path, body=None, query=None):
        """Calls ``/_reflinks{path}``: ``(status, parsed JSON or None)`` for a 2xx, else raises
        :class:`ReflinksError`; a network error after the last retry is raised as it is."""
        url = f"{self.url}/_reflinks{path}"
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.api_token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                    return response.status, (json.loads(raw) if raw else None)
            except urllib.error.HTTPError as error:
                raw = error.read()
                if error.code in RETRY_STATUSES and attempt < self.retries:
                    pass
                else:
                    try:
                        details = json.loads(raw)["error"]
                        code, message = details["code"], details["message"]
                    except (ValueError, KeyError, TypeError):
                        code, message = "http_error", raw[:200].decode("utf-8", "replace")
                    raise ReflinksError(error.code, code, message) from None
            # socket.timeout: a read that timed out, before Python 3.10 (since, an alias of
            # TimeoutError); a connection that timed out comes wrapped in a URLError.
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError):
                if attempt >= self.retries:
                    raise
            time.sleep(self.backoff * (2**attempt))
            attempt += 1

    def confirm(self, user, event="signup"):
        """Credits the referral of ``user`` for ``event``, exactly once.

        Returns ``{"created": bool, "referral": {...}}`` (``created`` is true only the first
        time), or ``None`` when the user did not come through a referral link.
        Credit the referrer keyed on ``referral["id"]``, and only when ``referral["status"]`` is
        ``"ok"``: a ``"held"`` referral waits for a person's review (a ``referral.confirmed``
        webhook, or a later confirm answering ``"ok"``, says it was released; docs/fraud.md).
        """
        body = {"user_id": user_id(user), "event": event, "signed_up_at": signed_up_at(user)}
        try:
            return self.request("POST", "/confirm", body)[1]
        except ReflinksError as error:
            if error.code == "no_referral":
                return None
            raise

    def conversion(self, user, external_id, amount, currency, event="signup"):
        """Records a payment by ``user`` (``amount`` in the currency's minor unit), once per
        ``external_id``: ``{"created": bool, "conversion": {...}}``, or ``None`` when the user was
        not referred (nothing is stored)."""
        body = {
            "user_id": user_id(user),
            "external_id": str(external_id),
            "amount": amount,
            "currency": currency,
            "event": event,
            "signed_up_at": signed_up_at(user),
        }
        try:
            return self.request("POST", "/conversions", body)[1]
        except ReflinksError as error:
            if error.code == "no_referral":
                return None
            raise

    def reverse(self, external_id, reversal_id, amount=None):
        """A refund of the conversion ``external_id``, once per ``reversal_id`` (``amount``: the
        refunded part; ``None``: the rest): ``{"created", "conversion", "reversal"}``, or
        ``None`` when there is no such conversion."""
        body = {"reversal_id": str(reversal_id)}
        if amount is not None:
            body["amount"] = amount
        try:
            return self.request("POST", f"/conversions/{quote(str(external_id), safe='')}/reverse", body)[1]
        except ReflinksError as error:
            if error.code == "not_found":
                return None
            raise

    def user_summary(self, user):
        """What to show ``user`` about their referrals: ``{user_id, first_seen_at, referred_by,
        links, earnings}``."""
        return self.request("GET", f"/users/{quote(user_id(user), safe='')}")[1]

    def report(self, date_from=None, date_to=None):
        """The link report's rows (``GET /reports/links``), most hits first."""
        return self.request("GET", "/reports/links", query={"from": date_from, "to": date_to})[1]["rows"]
