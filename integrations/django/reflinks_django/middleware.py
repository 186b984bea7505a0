from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .signing import sign, user_header_value, verified_referral


class ReflinksUserMiddleware:
    """Tells reflinks who is signed in, on every response to a signed-in user, and tells the view
    which referral link brought this browser.

    List it after ``AuthenticationMiddleware``. A response that logged the user out carries an
    empty ``Reflinks-User``, signed like any other value, so the worker forgets the browser's
    identity cookie. The worker removes both headers before the browser sees them.

    ``request.reflinks_referral``: ``{"link", "referrer", "reward", "at"}`` from the worker's
    ``Reflinks-Referral`` request header when its ``Reflinks-Referral-Signature`` verifies with
    ``REFLINKS_API_TOKEN``, else None (docs/referred-visitor.md)::

        referral = request.reflinks_referral
        if referral and referral["reward"]:
            greeting = f"{referral['referrer'] or 'A friend'} gave you {referral['reward']}"
    """

    def __init__(self, get_response):
        self.get_response = get_response
        token = getattr(settings, "REFLINKS_API_TOKEN", "")
        if not token:
            raise ImproperlyConfigured("REFLINKS_API_TOKEN is not set: the login header cannot be signed")
        self.api_token = token

    def __call__(self, request):
        try:
            request.reflinks_referral = verified_referral(
                request.headers.get("Reflinks-Referral"),
                request.headers.get("Reflinks-Referral-Signature"),
                self.api_token,
            )
        except UnicodeDecodeError:
            request.reflinks_referral = None  # a value whose escapes are not UTF-8: not the worker's
        user = getattr(request, "user", None)
        was_signed_in = bool(user is not None and user.is_authenticated)
        response = self.get_response(request)
        # Read the user again: the view may have logged someone in or out.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            value = user_header_value(user.pk)
        elif was_signed_in:
            value = ""  # this request logged the user out
        else:
            return response
        response["Reflinks-User"] = value
        response["Reflinks-User-Signature"] = sign(value, self.api_token)
        return response
