import hashlib
import hmac
from urllib.parse import quote


def user_header_value(user_id):
    """The ``Reflinks-User`` value: the id percent-encoded as UTF-8 (``böb`` is ``b%C3%B6b``)."""
    return "" if user_id is None else quote(str(user_id), safe="")


def sign(value, api_token):
    """The ``Reflinks-User-Signature``: lower-case hex HMAC-SHA256 of the value as sent."""
    return hmac.new(api_token.encode(), value.encode(), hashlib.sha256).hexdigest()
