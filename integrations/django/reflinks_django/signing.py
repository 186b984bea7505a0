import hashlib
import hmac
import re
from urllib.parse import quote, unquote


def user_header_value(user_id):
    """The ``Reflinks-User`` value: the id percent-encoded as UTF-8 (``böb`` is ``b%C3%B6b``)."""
    return "" if user_id is None else quote(str(user_id), safe="")


def sign(value, api_token):
    """The ``Reflinks-User-Signature``: lower-case hex HMAC-SHA256 of the value as sent."""
    return hmac.new(api_token.encode(), value.encode(), hashlib.sha256).hexdigest()


_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def verified_referral(value, signature, api_token):
    """The referral the worker's ``Reflinks-Referral`` header names, or None.

    A dict ``{"link", "referrer", "reward", "at"}`` (``referrer`` and ``reward`` None when the
    header leaves them out; ``at`` the click's ISO time) when ``signature`` is the hex HMAC-SHA256
    of ``value`` keyed with ``api_token``, compared in constant time; None without a header, with a
    signature that does not verify, or a value without ``link`` or ``at``. The site can be reached
    without the worker, so a header it cannot verify is anyone's word (docs/referred-visitor.md).
    """
    if not value or not signature or not api_token or not _HEX_SIGNATURE.fullmatch(signature):
        return None
    if not hmac.compare_digest(sign(value, api_token), signature):
        return None
    fields = {}
    for part in value.split("; "):
        name, eq, encoded = part.partition("=")
        if eq:
            fields[name] = unquote(encoded, errors="strict")
    if not fields.get("link") or not fields.get("at"):
        return None
    return {
        "link": fields["link"],
        "referrer": fields.get("referrer"),
        "reward": fields.get("reward"),
        "at": fields["at"],
    }
