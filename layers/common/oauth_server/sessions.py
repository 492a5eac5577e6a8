"""The signed session cookie of a person who signed in through the upstream provider.

The cookie carries the session itself (no table): `v1.<payload>.<signature>`, the payload
base64url-encoded JSON, the signature an HMAC-SHA256 under a key held in Secrets Manager.
A tampered, expired or malformed cookie is simply no session.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

from . import aws

_VERSION = "v1"
_KEY_CACHE_SECONDS = 900


@dataclass(frozen=True)
class Session:
    sub: str
    name: str
    email: str
    is_admin: bool
    csrf_token: str
    expires_at: int

    def user(self) -> dict:
        return {"sub": self.sub, "name": self.name, "email": self.email}

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented, self.csrf_token)


def new_session(claims: dict, is_admin: bool, lifetime: int) -> Session:
    return Session(
        sub=claims["sub"],
        name=display_name(claims),
        email=str(claims.get("email") or ""),
        is_admin=is_admin,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=int(time.time()) + lifetime,
    )


def display_name(claims: dict) -> str:
    for claim in ("name", "preferred_username", "email", "sub"):
        if isinstance(claims.get(claim), str) and claims[claim].strip():
            return claims[claim].strip()[:200]
    return ""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, message: str) -> str:
    return _b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest())


def encode(session: Session, key: bytes) -> str:
    payload = _b64encode(json.dumps(asdict(session), separators=(",", ":")).encode())
    message = f"{_VERSION}.{payload}"
    return f"{message}.{_sign(key, message)}"


def decode(value: str, key: bytes, now: float | None = None) -> Session | None:
    """The session in a cookie value, or None when it is forged, expired or malformed."""
    version, _, rest = value.partition(".")
    payload, _, signature = rest.partition(".")
    if version != _VERSION or not payload or not signature:
        return None
    if not hmac.compare_digest(_sign(key, f"{version}.{payload}"), signature):
        return None
    try:
        session = Session(**json.loads(_b64decode(payload)))
    except (ValueError, TypeError):
        return None
    if session.expires_at <= (time.time() if now is None else now):
        return None
    return session


class SigningKey:
    """The session-signing key from Secrets Manager, re-read every 15 minutes.

    Re-reading lets an operator rotate the key without redeploying; sessions signed with the
    old key end when it changes.
    """

    def __init__(self, secret_id: str, client=None):
        self._secret_id = secret_id
        self._client = client
        self._key: bytes | None = None
        self._read_at = 0.0

    def get(self) -> bytes:
        if self._key is None or time.monotonic() - self._read_at > _KEY_CACHE_SECONDS:
            client = self._client or aws.secretsmanager()
            secret = aws.call(client, "get_secret_value", SecretId=self._secret_id)
            # A key derived for this one purpose, never the stored value itself.
            material = secret["SecretString"].encode()
            self._key = hmac.new(material, b"session-cookie", hashlib.sha256).digest()
            self._read_at = time.monotonic()
        return self._key
