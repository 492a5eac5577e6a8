"""Token introspection for resource servers (RFC 7662).

Only an authenticated confidential client may ask (§2.1): resource servers are registered as
confidential clients, and any of them may introspect any token. A token is active only while
it, its family and its client all stand; otherwise the answer is `{"active": false}` and
nothing more (§2.2).
"""

from . import clock
from .client_auth import Credentials, authenticate, lookup_id
from .client_secrets import SecretStore
from .form_params import FormParams
from .log import outcome
from .tokens import Token, TokenStore, token_key

INACTIVE = {"active": False}
_TOKEN_TYPES = {"access": "Bearer", "refresh": "refresh_token"}


class IntrospectionEndpoint:
    def __init__(self, store: TokenStore, secrets: SecretStore, issuer: str,
                 grace_seconds: int):
        self._store = store
        self._secrets = secrets
        self._issuer = issuer
        self._grace = grace_seconds

    def introspect(self, params: FormParams, credentials: Credentials) -> dict:
        """RFC 7662 §2.2, in at most two reads: token and caller, then family and holder."""
        if credentials.client_secret is None:
            raise credentials.refuse("not_confidential", "Introspection is for confidential "
                                     "clients: send a client_secret.")
        key = token_key(params.required("token"))
        token, caller = self._store.token_and_client(key, lookup_id(credentials))
        caller = authenticate(credentials, caller, self._secrets)
        active = token is not None and self._stands(token, caller.client_id)
        outcome("token.introspected", client_id=caller.client_id, active=active)
        return self._describe(token) if active else INACTIVE

    def _stands(self, token: Token, caller_id: str) -> bool:
        if not token.usable(clock.now(), self._grace):
            return False
        holder = None if token.client_id == caller_id else token.client_id
        family, holder_client = self._store.family_and_client(token.family_id, holder)
        holder_exists = holder is None or holder_client is not None
        return holder_exists and family is not None and family.revoked_at is None

    def _describe(self, token: Token) -> dict:
        description = {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "sub": token.sub,
            "iss": self._issuer,
            "exp": token.expires_at,
            "iat": token.issued_at,
            "token_type": _TOKEN_TYPES[token.kind],
        }
        if token.resources:
            description["aud"] = token.resources
        return description
