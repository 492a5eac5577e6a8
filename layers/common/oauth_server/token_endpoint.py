"""The token endpoint's grants: authorization code (RFC 6749 §4.1.3) and refresh (§6).

authlib's AuthorizationServer reads the client and the code in separate calls and deletes the
code after saving the tokens; here both reads are one BatchGetItem and the redemption one
transaction, the only way a code stays single-use when two requests race.
"""

from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidScopeError

from . import clock, grants, pkce
from .client_auth import Credentials, authenticate, lookup_id
from .client_secrets import SecretStore
from .clients import Client
from .form_params import FormParams
from .grants import AuthorizationCode
from .log import outcome
from .oauth_errors import InvalidTargetError, logged_as
from .request_params import InvalidParameter, split_scope
from .tokens import (CodeNotRedeemable, Family, RotationRefused, Token, TokenStore, issue,
                     new_family_id)

_UNKNOWN_CODE = "The code is unknown, expired, or was issued to another client."
_UNUSABLE_REFRESH = "The refresh token is unknown, expired, revoked, or was issued to " \
    "another client."


class TokenEndpoint:
    def __init__(self, store: TokenStore, secrets: SecretStore, grace_seconds: int):
        self._store = store
        self._secrets = secrets
        self._grace = grace_seconds

    def authorization_code(self, params: FormParams, credentials: Credentials) -> dict:
        """RFC 6749 §4.1.3 with RFC 7636 §4.6: every check first, then one transaction."""
        code = params.required("code")
        code_verifier = pkce.checked_verifier(params.get("code_verifier"))
        requested = params.resources()

        grant, client = self._store.code_and_client(code, lookup_id(credentials))
        client = authenticate(credentials, client, self._secrets)
        self._check_code(grant, client, params.get("redirect_uri"), code_verifier)

        now = clock.now()
        family_id = new_family_id()
        family = _family(grant, code, now, client.refresh_token_expiry)
        granted = Token(kind="refresh", client_id=grant.client_id, sub=grant.sub,
                        scope=grant.scope, resources=grant.resources, family_id=family_id,
                        issued_at=now, expires_at=family.refresh_expires_at)
        tokens = issue(granted, grant.scope, _audience(requested, grant.resources),
                       client.access_token_expiry, now)
        try:
            self._store.redeem(code, family_id, family, tokens, now)
        except CodeNotRedeemable:
            self._lost_race(code, client)
        outcome("token.issued", grant_type="authorization_code", client_id=client.client_id,
                sub=grant.sub, family_id=family_id)
        return tokens.response(now)

    def refresh_token(self, params: FormParams, credentials: Credentials) -> dict:
        """RFC 6749 §6, rotating the refresh token on every use (RFC 9700 §4.14.2)."""
        value = params.required("refresh_token")
        scopes = _scopes(params.get("scope"))
        requested = params.resources()

        key = _refresh_key(value)
        token, client = self._store.token_and_client(key, lookup_id(credentials))
        client = authenticate(credentials, client, self._secrets)
        now = clock.now()
        self._check_refresh(token, client, now)

        # RFC 6749 §6: the new refresh token keeps the grant; only the access token narrows.
        tokens = issue(token, _narrowed_scope(scopes, token.scope),
                       _audience(requested, token.resources), client.access_token_expiry, now)
        try:
            self._store.rotate(value, token.family_id, tokens, now, now - self._grace)
        except RotationRefused:
            raise InvalidGrantError(_UNUSABLE_REFRESH) from None
        outcome("token.refreshed", client_id=client.client_id, sub=token.sub,
                family_id=token.family_id)
        return tokens.response(now)

    def _check_code(self, grant: AuthorizationCode | None, client: Client,
                    redirect_uri: str | None, code_verifier: str | None) -> None:
        """RFC 6749 §4.1.3: bound to the client and redirect URI; RFC 7636 §4.6: PKCE."""
        # Another client's code is refused without revoking anything: it proves nothing.
        if grant is None or grant.client_id != client.client_id:
            raise InvalidGrantError(_UNKNOWN_CODE)
        if (grant.redirect_uri_sent or redirect_uri is not None) \
                and redirect_uri != grant.redirect_uri:
            raise InvalidGrantError("The redirect_uri differs from the authorization request's.")
        if grant.code_challenge is None and client.pkce_required:
            raise InvalidGrantError("This client must use PKCE.")
        pkce.verify(grant.code_challenge, code_verifier)
        if grant.used_at is not None:
            self._replayed(grant, client)
        if grant.expires_at <= clock.now():
            raise InvalidGrantError(_UNKNOWN_CODE)

    def _replayed(self, grant: AuthorizationCode, client: Client):
        """RFC 6749 §4.1.2: a code used twice revokes what was issued from it."""
        if grant.family_id:
            self._store.revoke_family(grant.family_id, "code_replayed", clock.now())
        error = InvalidGrantError("The code was used already; the tokens issued from it "
                                  "are revoked.")
        raise logged_as(error, "code.replayed", client_id=client.client_id, sub=grant.sub,
                        family_id=grant.family_id)

    def _lost_race(self, code: str, client: Client):
        """A concurrent redemption won the transaction: this one is a replay of it."""
        grant = self._store.code(code)
        if grant is not None and grant.used_at is not None:
            self._replayed(grant, client)
        raise InvalidGrantError(_UNKNOWN_CODE)

    def _check_refresh(self, token: Token | None, client: Client, now: int) -> None:
        if token is None or token.client_id != client.client_id:
            raise InvalidGrantError(_UNUSABLE_REFRESH)
        if token.revoked_at is not None or token.expires_at <= now:
            raise InvalidGrantError(_UNUSABLE_REFRESH)
        if not token.usable(now, self._grace):
            # RFC 9700 §4.14.2: a replaced token presented again means one copy was stolen.
            self._store.revoke_family(token.family_id, "refresh_reused", now)
            error = InvalidGrantError("The refresh token was used already; the grant is "
                                      "revoked.")
            raise logged_as(error, "refresh.reuse_detected", client_id=client.client_id,
                            sub=token.sub, family_id=token.family_id)


def _family(grant: AuthorizationCode, code: str, now: int, lifetime: int) -> Family:
    """The family a code's redemption starts; its refresh expiry never moves after this."""
    return Family(client_id=grant.client_id, sub=grant.sub, scope=grant.scope,
                  resources=grant.resources, code=grants.code_key(code)["pk"]["S"],
                  created_at=now, refresh_expires_at=now + lifetime, expires_at=now + lifetime)


def _refresh_key(value: str) -> dict | None:
    return grants.refresh_key(value) if value.startswith(grants.REFRESH_TOKEN_PREFIX) else None


def _scopes(value: str | None) -> list[str]:
    """RFC 6749 §6: the scope asked for at refresh; none when it was left out."""
    try:
        return split_scope(value)
    except InvalidParameter:
        raise InvalidScopeError() from None


def _narrowed_scope(requested: list[str], granted: str) -> str:
    """The same or fewer scopes than were granted, in the grant's order (RFC 6749 §6)."""
    if not requested:
        return granted
    granted_scopes = granted.split()
    if any(scope not in granted_scopes for scope in requested):
        raise InvalidScopeError("The scope asks for more than was granted.")
    return " ".join(s for s in granted_scopes if s in requested)


def _audience(requested: list[str], granted: list[str]) -> list[str]:
    """RFC 8707 §2.2: a token request may narrow the granted resources, never widen them."""
    if any(resource not in granted for resource in requested):
        raise InvalidTargetError("A resource was asked for that was not granted.")
    return requested or granted
