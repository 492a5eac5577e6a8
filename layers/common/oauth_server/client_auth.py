"""Client authentication at the back-channel endpoints (RFC 6749 §2.3, RFC 7591 §2).

Confidential clients send their secret with HTTP Basic (`client_secret_basic`) or in the
body (`client_secret_post`); public clients send only `client_id` (`none`). Reading the
credentials is separate from checking them, so the client item can be read in the same
round trip as the code or token it presents.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from .client_secrets import SecretStore
from .clients import Client, plausible_client_id
from .oauth_errors import ClientAuthenticationFailed, logged_as

BASIC = "client_secret_basic"
POST = "client_secret_post"
NONE = "none"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str | None
    method: str  # one of BASIC, POST, NONE

    @property
    def basic(self) -> bool:
        return self.method == BASIC

    def refuse(self, reason: str, description: str) -> ClientAuthenticationFailed:
        return _refusal(reason, description, self.basic, client_id=self.client_id[:128],
                        method=self.method)


def presented(headers: Mapping[str, str], form) -> Credentials:
    """The credentials the client sent, by whichever one method it used."""
    authorization = headers.get("authorization", "").strip()
    if authorization[:6].lower() == "basic ":
        return _basic(authorization, form)
    client_id = form.get("client_id")
    if client_id is None:
        raise _refusal("client_id_missing", "Send client_id, and the client_secret of a "
                       "confidential client.", basic=False)
    secret = form.get("client_secret")
    return Credentials(client_id, secret, POST if secret is not None else NONE)


def _basic(authorization: str, form) -> Credentials:
    """RFC 6749 §2.3.1: both parts form-urlencoded, then joined by ":" and base64-encoded."""
    try:
        client_id, secret = extract_basic_authorization({"Authorization": authorization})
    except UnicodeDecodeError:
        client_id = secret = None
    if not client_id or secret is None:
        raise _refusal("basic_malformed", "The Basic credentials are malformed.", basic=True)
    if form.get("client_secret") is not None:
        raise InvalidRequestError("Send the client secret once: in the Authorization "
                                  "header or in the body, not both.")
    if form.get("client_id") not in (None, client_id):
        raise InvalidRequestError("The client_id in the body is not the one in the "
                                  "Authorization header.")
    return Credentials(client_id, secret or None, BASIC)


def lookup_id(credentials: Credentials) -> str | None:
    """The client_id to read, or None when no client could have it."""
    return credentials.client_id if plausible_client_id(credentials.client_id) else None


def authenticate(credentials: Credentials, client: Client | None,
                 secrets: SecretStore) -> Client:
    """The client, once its credentials are proven; `client` is its item as read."""
    if client is None:
        raise credentials.refuse("unknown_client", "No client has this client_id.")
    if not client.is_confidential:
        if credentials.client_secret is not None:
            raise credentials.refuse("secret_from_public_client",
                                     "A public client has no secret to send.")
        return client
    if credentials.client_secret is None:
        raise credentials.refuse("secret_missing", "This client must authenticate with "
                                 "its client_secret.")
    if not client.secret_version or not secrets.verify(
            client.client_id, client.secret_version, credentials.client_secret):
        raise credentials.refuse("secret_mismatch", "The client secret is wrong.")
    return client


def _refusal(reason: str, description: str, basic: bool, **fields):
    return logged_as(ClientAuthenticationFailed(description, basic=basic),
                     "client.authentication_failed", reason=reason, **fields)
