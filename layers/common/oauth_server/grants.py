"""What a person's approval becomes: authorization codes, token families, tokens, consents.

The shapes here are shared by the authorize function (which writes codes and consents) and
the token function (which redeems codes and issues, rotates, revokes and introspects tokens).
No raw code or token is ever stored: items are keyed by the SHA-256 of the value handed out.

Keys
- codes table:  `code#<sha256 hex>`                 an authorization code
- tokens table: `access#<sha256 hex>`               an access token
                `refresh#<sha256 hex>`              a refresh token
                `family#<family_id>`                everything issued from one code
                `consent#<sha256 hex of the key>`   a remembered consent

A family is revoked by one write to its item; every token names its family and is active only
while the family is not revoked. That is how a replayed code, a refresh token reused after the
grace period, or a revoked refresh token ends every token of the grant at once.
"""

import base64
import hashlib
import secrets
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

CODE_LIFETIME_SECONDS = 600  # RFC 6749 §4.1.2: short; SPEC.md: at most 10 minutes
CONSENT_LIFETIME_SECONDS = 180 * 86_400

# Readable prefixes let secret scanners recognise a leaked token, and tell the kinds apart.
ACCESS_TOKEN_PREFIX = "oat_"
REFRESH_TOKEN_PREFIX = "ort_"
CODE_PREFIX = "oac_"

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def new_secret_value(prefix: str) -> str:
    """256 bits of randomness, URL-safe, behind a short readable prefix."""
    random = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return prefix + random


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def code_key(code: str) -> dict:
    return {"pk": {"S": f"code#{digest(code)}"}}


def access_key(token: str) -> dict:
    return {"pk": {"S": f"access#{digest(token)}"}}


def refresh_key(token: str) -> dict:
    return {"pk": {"S": f"refresh#{digest(token)}"}}


def family_key(family_id: str) -> dict:
    return {"pk": {"S": f"family#{family_id}"}}


def consent_key(sub: str, client_id: str, scopes: list[str], resources: list[str]) -> dict:
    """Consent is remembered per person, client, scope set and resource set."""
    parts = [sub, client_id, " ".join(sorted(scopes)), " ".join(sorted(resources))]
    return {"pk": {"S": "consent#" + digest("\x00".join(parts))}}


def to_item(record, key: dict) -> dict:
    """A dataclass as a DynamoDB item under `key`; None fields are left out."""
    values = {k: v for k, v in asdict(record).items() if v is not None}
    return {**{k: _serialize(v) for k, v in values.items()}, **key}


def from_item(kind, item: dict):
    """The dataclass `kind` from a DynamoDB item; unknown attributes are ignored."""
    values = {k: _plain(_deserialize(v)) for k, v in item.items()
              if k in kind.__dataclass_fields__}
    return kind(**values)


def _plain(value):
    # DynamoDB numbers come back as Decimal; every number here is a whole one.
    return int(value) if isinstance(value, Decimal) else value


@dataclass
class AuthorizationCode:
    """An approved authorization request, waiting to be redeemed once (RFC 6749 §4.1.2)."""

    client_id: str
    sub: str
    redirect_uri: str  # the URI the code was sent to
    redirect_uri_sent: bool  # RFC 6749 §4.1.3: then the token request must repeat it
    scope: str  # space-separated, possibly empty
    resources: list[str] = field(default_factory=list)  # RFC 8707 audiences
    code_challenge: str | None = None  # S256 only
    issued_at: int = 0
    expires_at: int = 0
    kind: str = "code"
    used_at: int | None = None  # set, with family_id, by the redeeming transaction
    family_id: str | None = None


@dataclass
class Consent:
    sub: str
    client_id: str
    scope: str
    resources: list[str]
    granted_at: int
    expires_at: int
    kind: str = "consent"
