"""Token families, access tokens and refresh tokens in DynamoDB, and the codes they come from.

Each request reads what it needs in one BatchGetItem (the code or token with the client that
presents it) and writes in one TransactWriteItems, so that a code is redeemed, or a refresh
token rotated, entirely or not at all. Items are keyed by the SHA-256 of the value handed out
(grants.py); DynamoDB deletes expired items late, so every reader checks `expires_at` itself.
"""

import secrets
from dataclasses import dataclass, replace

from botocore.exceptions import ClientError

from . import aws, clients, grants
from .clients import Client
from .config import Settings
from .grants import AuthorizationCode

_STANDS = "attribute_exists(pk) AND attribute_not_exists(revoked_at)"


@dataclass
class Family:
    """Everything issued from one authorization code; revoking it ends all of it."""

    client_id: str
    sub: str
    scope: str
    resources: list[str]
    code: str  # the pk of the code it was redeemed from
    created_at: int
    refresh_expires_at: int  # fixed at redemption: rotation never extends it
    expires_at: int  # TTL, the same moment
    kind: str = "family"
    revoked_at: int | None = None
    revoked_reason: str | None = None


@dataclass
class Token:
    """An access or refresh token as stored: what it grants, never its value."""

    kind: str  # "access" or "refresh"
    client_id: str
    sub: str
    scope: str  # space-separated, possibly empty
    resources: list[str]  # the audience (RFC 8707)
    family_id: str
    issued_at: int
    expires_at: int
    revoked_at: int | None = None
    replaced_at: int | None = None  # refresh tokens: when first rotated

    def usable(self, now: int, grace_seconds: int) -> bool:
        """Unrevoked, unexpired, and not replaced longer ago than the reuse grace period."""
        if self.revoked_at is not None or self.expires_at <= now:
            return False
        return self.replaced_at is None or now - self.replaced_at < grace_seconds


@dataclass
class NewTokens:
    """A freshly issued pair: the values go to the client once, the items to the table."""

    access_token: str
    refresh_token: str
    access: Token
    refresh: Token

    def response(self, now: int) -> dict:
        """RFC 6749 §5.1; `scope` is always sent, even when it equals the request's."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.access.expires_at - now,
            "refresh_token": self.refresh_token,
            "scope": self.access.scope,
        }


class CodeNotRedeemable(Exception):
    """The code was redeemed, or expired, between reading it and redeeming it."""


class RotationRefused(Exception):
    """The family is revoked, or the refresh token stopped being current, meanwhile."""


def new_family_id() -> str:
    return secrets.token_urlsafe(16)


def token_key(value: str) -> dict | None:
    """The item key of a token; its prefix says its kind. None: no token of ours."""
    if value.startswith(grants.ACCESS_TOKEN_PREFIX):
        return grants.access_key(value)
    if value.startswith(grants.REFRESH_TOKEN_PREFIX):
        return grants.refresh_key(value)
    return None


def issue(granted: Token, access_scope: str, audience: list[str], lifetime: int,
          now: int) -> NewTokens:
    """A new refresh token carrying `granted`, and an access token narrowed from it.

    The access token never outlives the refresh token's family, whose expiry is fixed.
    """
    refresh = replace(granted, kind="refresh", issued_at=now, revoked_at=None,
                      replaced_at=None)
    access = replace(refresh, kind="access", scope=access_scope, resources=audience,
                     expires_at=min(now + lifetime, granted.expires_at))
    return NewTokens(
        access_token=grants.new_secret_value(grants.ACCESS_TOKEN_PREFIX),
        refresh_token=grants.new_secret_value(grants.REFRESH_TOKEN_PREFIX),
        access=access,
        refresh=refresh,
    )


class TokenStore:
    def __init__(self, config: Settings, client=None):
        self._codes = config.codes_table
        self._tokens = config.tokens_table
        self._clients = config.clients_table
        self._dynamodb = client or aws.dynamodb()

    # Reads ------------------------------------------------------------------------------

    def code_and_client(self, code: str, client_id: str | None):
        """The code and the client presenting it, in one strongly consistent read."""
        item, client = self._read([
            (self._codes, grants.code_key(code)), self._client_request(client_id),
        ])
        return _code(item), _client(client)

    def token_and_client(self, key: dict | None, client_id: str | None):
        """The token under `key` and the client presenting it, in one read."""
        item, client = self._read([(self._tokens, key), self._client_request(client_id)])
        return _token(key, item), _client(client)

    def family_and_client(self, family_id: str, client_id: str):
        """The family of a token and the client that holds it, in one read."""
        item, client = self._read([
            (self._tokens, grants.family_key(family_id)), self._client_request(client_id),
        ])
        return (grants.from_item(Family, item) if item else None), _client(client)

    def code(self, code: str) -> AuthorizationCode | None:
        response = self._call("get_item", TableName=self._codes, Key=grants.code_key(code),
                              ConsistentRead=True)
        return _code(response.get("Item"))

    # Writes -----------------------------------------------------------------------------

    def redeem(self, code: str, family_id: str, family: Family, tokens: NewTokens,
               now: int) -> None:
        """Mark the code used and write the family and both tokens: all or nothing."""
        mark_used = {"Update": {
            "TableName": self._codes,
            "Key": grants.code_key(code),
            "UpdateExpression": "SET used_at = :now, family_id = :family",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used_at) "
                                   "AND expires_at > :now",
            "ExpressionAttributeValues": {":now": _number(now), ":family": {"S": family_id}},
        }}
        failed = aws.transact(self._dynamodb, [
            mark_used,
            self._put(grants.family_key(family_id), family),
            *self._put_tokens(tokens),
        ])
        if failed:
            raise CodeNotRedeemable()

    def rotate(self, refresh_token: str, family_id: str, tokens: NewTokens, now: int,
               replaced_after: int) -> None:
        """Replace a refresh token by a new pair while its family stands: all or nothing.

        The old token stays usable until `replaced_after` passes its first replacement, so
        `replaced_at` keeps the first moment: the grace period is never extended.
        """
        replace_old = {"Update": {
            "TableName": self._tokens,
            "Key": grants.refresh_key(refresh_token),
            "UpdateExpression": "SET replaced_at = if_not_exists(replaced_at, :now)",
            "ConditionExpression": f"{_STANDS} AND expires_at > :now AND "
                                   "(attribute_not_exists(replaced_at) OR replaced_at > :after)",
            "ExpressionAttributeValues": {
                ":now": _number(now), ":after": _number(replaced_after),
            },
        }}
        if aws.transact(self._dynamodb, [self._family_stands(family_id), replace_old,
                           *self._put_tokens(tokens)]):
            raise RotationRefused()

    def revoke_family(self, family_id: str, reason: str, now: int) -> bool:
        """Revoke every token of a family at once; False when it was revoked already."""
        try:
            self._call(
                "update_item", TableName=self._tokens, Key=grants.family_key(family_id),
                UpdateExpression="SET revoked_at = :now, revoked_reason = :reason",
                ExpressionAttributeValues={":now": _number(now), ":reason": {"S": reason}},
                ConditionExpression=_STANDS,
            )
            return True
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return False
            raise

    def revoke_access(self, key: dict, family_id: str, now: int) -> bool:
        """Revoke one access token; False when it, or its family, was revoked already."""
        revoke = {"Update": {
            "TableName": self._tokens,
            "Key": key,
            "UpdateExpression": "SET revoked_at = :now",
            "ConditionExpression": _STANDS,
            "ExpressionAttributeValues": {":now": _number(now)},
        }}
        return not aws.transact(self._dynamodb, [self._family_stands(family_id), revoke])

    # Helpers ----------------------------------------------------------------------------

    def _family_stands(self, family_id: str) -> dict:
        return {"ConditionCheck": {
            "TableName": self._tokens,
            "Key": grants.family_key(family_id),
            "ConditionExpression": _STANDS,
        }}

    def _client_request(self, client_id: str | None) -> tuple[str, dict | None]:
        return self._clients, clients.client_key(client_id) if client_id else None

    def _put(self, key: dict, record) -> dict:
        # A collision of 128 random bits or more would be a bug, never a retry.
        return {"Put": {
            "TableName": self._tokens,
            "Item": grants.to_item(record, key),
            "ConditionExpression": "attribute_not_exists(pk)",
        }}

    def _put_tokens(self, tokens: NewTokens) -> list[dict]:
        return [
            self._put(grants.access_key(tokens.access_token), tokens.access),
            self._put(grants.refresh_key(tokens.refresh_token), tokens.refresh),
        ]

    def _read(self, requests: list[tuple[str, dict | None]]) -> list[dict | None]:
        """The items under each (table, key) in one BatchGetItem; None where missing."""
        wanted: dict[str, list[dict]] = {}
        for table, key in requests:
            if key is not None and key not in wanted.setdefault(table, []):
                wanted[table].append(key)
        found = self._batch_get({t: keys for t, keys in wanted.items() if keys})
        return [found.get((table, key["pk"]["S"])) if key else None for table, key in requests]

    def _batch_get(self, wanted: dict[str, list[dict]]) -> dict[tuple[str, str], dict]:
        found: dict[tuple[str, str], dict] = {}
        request = {t: {"Keys": keys, "ConsistentRead": True} for t, keys in wanted.items()}
        for _attempt in range(2):  # DynamoDB may leave keys unread when it is throttled
            if not request:
                return found
            response = self._call("batch_get_item", RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                found.update({(table, item["pk"]["S"]): item for item in items})
            request = response.get("UnprocessedKeys") or {}
        if request:
            raise aws.ServiceUnavailable("UnprocessedKeys")
        return found

    def _call(self, operation: str, **params) -> dict:
        return aws.call(self._dynamodb, operation, **params)


def _number(value: int) -> dict:
    return {"N": str(value)}


def _code(item: dict | None) -> AuthorizationCode | None:
    return grants.from_item(AuthorizationCode, item) if item else None


def _client(item: dict | None) -> Client | None:
    return clients.from_item(item) if item else None


def _token(key: dict | None, item: dict | None) -> Token | None:
    return grants.from_item(Token, item) if item and key else None
