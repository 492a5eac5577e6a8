"""Token revocation (RFC 7009).

The token's prefix says what it is, so `token_type_hint` is not needed (RFC 7009 §2.1 lets
the server search on its own). Revoking a refresh token revokes its family: every access and
refresh token issued from the same authorization (§2.1 "SHOULD"). An access token is revoked
alone.
"""

from . import clock
from .client_auth import Credentials, authenticate, lookup_id
from .client_secrets import SecretStore
from .form_params import FormParams
from .log import outcome
from .tokens import TokenStore, token_key


class RevocationEndpoint:
    def __init__(self, store: TokenStore, secrets: SecretStore):
        self._store = store
        self._secrets = secrets

    def revoke(self, params: FormParams, credentials: Credentials) -> None:
        """RFC 7009 §2.2: the answer is the same whether or not anything was revoked.

        A token of another client, an unknown one and one already invalid change nothing.
        """
        key = token_key(params.required("token"))
        token, client = self._store.token_and_client(key, lookup_id(credentials))
        client = authenticate(credentials, client, self._secrets)
        now = clock.now()
        if token is None or token.client_id != client.client_id:
            return
        if token.revoked_at is not None or token.expires_at <= now:
            return
        if token.kind == "refresh":
            revoked = self._store.revoke_family(token.family_id, "revoked_by_client", now)
        else:
            revoked = self._store.revoke_access(key, token.family_id, now)
        if revoked:
            outcome("token.revoked", client_id=client.client_id, sub=token.sub,
                    token_type=token.kind, family_id=token.family_id)
