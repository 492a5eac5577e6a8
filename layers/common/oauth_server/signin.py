"""Sign-in through the upstream OpenID Connect provider, as a relying party.

Authorization code flow with PKCE and a nonce (OpenID Connect Core §3.1, RFC 9700 §2.1.1).
The pending sign-in is kept in the codes table under the SHA-256 of `state`, and bound to the
browser that started it: the PKCE verifier lives only in that browser's cookie, the table
holds its S256 challenge. A callback from any other browser, a replayed or expired `state`,
or an ID token whose nonce, issuer or audience differs, ends with an error page.
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from functools import cache

import requests

from . import aws
from .config import Settings
from .log import failure
from .sessions import Session, new_session

LOGIN_LIFETIME_SECONDS = 600
HTTP_TIMEOUT_SECONDS = 5
_SCOPES = "openid email profile"
_GROUP_CLAIMS = ("groups", "cognito:groups")


class SignInError(Exception):
    """The sign-in cannot complete; the message is safe to show to the person."""

    def __init__(self, message: str, reason: str, status: int = 400):
        super().__init__(message)
        self.reason = reason  # for the log line only
        self.status = status


@dataclass(frozen=True)
class PendingLogin:
    redirect_url: str
    verifier: str  # goes into the browser's cookie and nowhere else


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _state_key(state: str) -> dict:
    return {"pk": {"S": "login#" + hashlib.sha256(state.encode()).hexdigest()}}


def _http_get(url: str) -> dict:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        raise SignInError(
            "The identity provider could not be reached. Try again in a moment.",
            reason=f"GET {url}: {type(error).__name__}", status=502,
        ) from error


@cache
def provider_metadata(issuer: str) -> dict:
    """The provider's discovery document (OpenID Connect Discovery §4), once per process."""
    # OpenID Connect Discovery §4.1: drop a trailing "/" before appending the path.
    metadata = _http_get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise SignInError(
            "The identity provider is misconfigured.",
            reason=f"discovery issuer {metadata.get('issuer')!r} is not {issuer!r}", status=502,
        )
    return metadata


class UpstreamSignIn:
    def __init__(self, settings: Settings, dynamodb=None, secretsmanager=None):
        self._settings = settings
        self._dynamodb = dynamodb or aws.dynamodb()
        self._secretsmanager = secretsmanager or aws.secretsmanager()
        self._client_secret: str | None = None

    def start(self, return_to: str) -> PendingLogin:
        """Remember a new sign-in and give the URL of the provider's login page."""
        metadata = provider_metadata(self._settings.upstream_issuer)
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        aws.call(
            self._dynamodb, "put_item",
            TableName=self._settings.codes_table,
            Item={
                **_state_key(state),
                "kind": {"S": "login"},
                "code_challenge": {"S": s256(verifier)},
                "nonce": {"S": nonce},
                "return_to": {"S": return_to},
                "expires_at": {"N": str(int(time.time()) + LOGIN_LIFETIME_SECONDS)},
            },
        )
        url, _ = self._oauth_client().create_authorization_url(
            metadata["authorization_endpoint"],
            state=state, nonce=nonce, code_verifier=verifier,
        )
        return PendingLogin(redirect_url=url, verifier=verifier)

    def finish(self, params: dict[str, str], verifier: str | None) -> tuple[Session, str]:
        """Check the provider's answer and make the session; returns it and `return_to`."""
        pending = self._consume(params.get("state", ""))
        if "error" in params:
            raise SignInError(
                "The identity provider did not sign you in. Try again.",
                reason=f"provider error {params['error'][:100]!r}",
            )
        if not params.get("code"):
            raise SignInError("The sign-in answer has no code.", reason="callback without code")
        self._check_browser(pending, verifier)
        claims = self._redeem(params["code"], verifier, pending["nonce"]["S"])
        session = new_session(
            claims, self._is_admin(claims), self._settings.session_lifetime_seconds,
        )
        return session, pending["return_to"]["S"]

    def _consume(self, state: str) -> dict:
        """Take the pending sign-in out of the table: each `state` works once."""
        if not state:
            raise SignInError("The sign-in answer has no state.", reason="callback without state")
        response = aws.call(
            self._dynamodb, "delete_item",
            TableName=self._settings.codes_table,
            Key=_state_key(state),
            ReturnValues="ALL_OLD",
        )
        pending = response.get("Attributes")
        if not pending or int(pending["expires_at"]["N"]) < time.time():
            raise SignInError(
                "This sign-in has expired or was already used. Please sign in again.",
                reason="unknown or expired state",
            )
        return pending

    def _check_browser(self, pending: dict, verifier: str | None) -> None:
        expected = pending["code_challenge"]["S"]
        if not verifier or not hmac.compare_digest(s256(verifier), expected):
            raise SignInError(
                "This sign-in was started in another browser or window. "
                "Please sign in again here.",
                reason="state not bound to this browser",
            )

    def _redeem(self, code: str, verifier: str, nonce: str) -> dict:
        metadata = provider_metadata(self._settings.upstream_issuer)
        try:
            token = self._oauth_client().fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=verifier,
                timeout=HTTP_TIMEOUT_SECONDS,
            )
        except Exception as error:  # authlib raises OAuthError, requests its own
            raise SignInError(
                "The identity provider did not accept the sign-in. Please sign in again.",
                reason=f"token request failed: {type(error).__name__}", status=502,
            ) from error
        from .id_tokens import verify_id_token  # joserfc is needed on this path only

        claims = verify_id_token(
            token.get("id_token"), metadata, self._settings.upstream_client_id, nonce,
        )
        return {**self._userinfo(metadata, token, claims["sub"]), **claims}

    def _userinfo(self, metadata: dict, token: dict, token_sub: str) -> dict:
        """Claims the ID token may leave out (groups, name), where the provider serves them."""
        endpoint = metadata.get("userinfo_endpoint")
        if not endpoint or not token.get("access_token"):
            return {}
        try:
            response = requests.get(
                endpoint, timeout=HTTP_TIMEOUT_SECONDS,
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            response.raise_for_status()
            claims = response.json()
        except (requests.RequestException, ValueError) as error:
            failure("signin.userinfo_failed", reason=type(error).__name__)
            return {}
        # Userinfo about someone else must not be mixed in (OpenID Connect Core §5.3.2).
        if not isinstance(claims, dict) or claims.get("sub") != token_sub:
            failure("signin.userinfo_mismatch")
            return {}
        return claims

    def _is_admin(self, claims: dict) -> bool:
        group = self._settings.admin_group
        for claim in _GROUP_CLAIMS:
            value = claims.get(claim)
            if value == group or (isinstance(value, list) and group in value):
                return True
        return False

    def _oauth_client(self):
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(
            client_id=self._settings.upstream_client_id,
            client_secret=self._upstream_secret(),
            scope=_SCOPES,
            redirect_uri=self._settings.callback_url,
            code_challenge_method="S256",
        )

    def _upstream_secret(self) -> str:
        if self._client_secret is None:
            secret = aws.call(
                self._secretsmanager, "get_secret_value",
                SecretId=self._settings.upstream_client_secret_arn,
            )
            self._client_secret = secret["SecretString"]
        return self._client_secret
