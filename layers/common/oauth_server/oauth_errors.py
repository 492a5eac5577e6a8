"""OAuth error responses that authlib's RFC 6749 classes do not cover, rendered the same way.

authlib's errors render themselves as RFC 6749 §5.2 JSON with `Cache-Control: no-store`;
these add the codes of RFC 8707, RFC 6749 §4.1.2.1 and OpenID Connect's `prompt`, and the
status codes we answer with.
"""

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: a resource that is not a valid URI or was not granted."""

    error = "invalid_target"


# authlib has these two in its OpenID Connect errors module, whose import costs about 90 ms
# of cold start.
class LoginRequiredError(OAuth2Error):
    error = "login_required"  # OpenID Connect Core §3.1.2.6


class ConsentRequiredError(OAuth2Error):
    error = "consent_required"  # OpenID Connect Core §3.1.2.6


class TemporarilyUnavailableError(OAuth2Error):
    """A storage service is throttled or down; nothing was changed, the client may retry."""

    error = "temporarily_unavailable"
    description = "The service is busy. Try again in a moment."
    status_code = 503

    def get_headers(self):
        return super().get_headers() + [("Retry-After", "1")]


class ServerError(OAuth2Error):
    error = "server_error"
    description = "Something went wrong on our side."
    status_code = 500


class ClientAuthenticationFailed(InvalidClientError):
    """RFC 6749 §5.2: 401, with a Basic challenge only when the client tried Basic.

    A Basic challenge sent to a browser-based client that posted its credentials could make
    the browser prompt for a password.
    """

    status_code = 401

    def __init__(self, description: str, basic: bool):
        super().__init__(description=description)
        self.basic = basic

    def get_headers(self):
        if self.basic:
            return super().get_headers()
        return OAuth2Error.get_headers(self)


def logged_as(error: OAuth2Error, event: str, **fields) -> OAuth2Error:
    """Name the one log line a refusal is written as, with fields for the logs only."""
    error.log_event = (event, fields)
    return error


def log_event(error: OAuth2Error, default: str) -> tuple[str, dict]:
    return getattr(error, "log_event", (default, {}))
