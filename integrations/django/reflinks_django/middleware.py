from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .signing import sign, user_header_value


class ReflinksUserMiddleware:
    """Tells reflinks who is signed in, on every response to a signed-in user.

    List it after ``AuthenticationMiddleware``. A response that logged the user out carries an
    empty ``Reflinks-User``, signed like any other value, so the worker forgets the browser's
    identity cookie. The worker removes both headers before the browser sees them.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        token = getattr(settings, "REFLINKS_API_TOKEN", "")
        if not token:
            raise ImproperlyConfigured("REFLINKS_API_TOKEN is not set: the login header cannot be signed")
        self.api_token = token

    def __call__(self, request):
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
