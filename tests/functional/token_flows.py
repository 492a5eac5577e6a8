"""What a client sends to the back channel, and codes written as the authorize function writes
them, for the token, revocation and introspection tests."""

import base64
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from botocore.exceptions import ClientError

from oauth_server import aws, clock, grants
from oauth_server.config import settings
from oauth_server.grants import AuthorizationCode
from tests.functional.flows import CHALLENGE, RESOURCE, VERIFIER, register

FORM = "application/x-www-form-urlencoded"
TOKEN = "/oauth/v1/token"
REVOKE = "/oauth/v1/revoke"
INTROSPECT = "/oauth/v1/introspect"
OTHER_RESOURCE = "https://api.example.com"


def write_code(aws_clients, client: dict, **fields) -> str:
    """A code in the codes table exactly as the authorize function stores it."""
    now = clock.now()
    grant = AuthorizationCode(**{
        "client_id": client["client_id"],
        "sub": "bob",
        "redirect_uri": client["redirect_uris"][0],
        "redirect_uri_sent": True,
        "scope": "mcp:read mcp:write",
        "resources": [RESOURCE, OTHER_RESOURCE],
        "code_challenge": CHALLENGE,
        "issued_at": now,
        "expires_at": now + grants.CODE_LIFETIME_SECONDS,
        **fields,
    })
    code = grants.new_secret_value(grants.CODE_PREFIX)
    aws_clients.dynamodb.put_item(TableName=settings().codes_table,
                                  Item=grants.to_item(grant, grants.code_key(code)))
    return code


def stored_code(aws_clients, code: str) -> dict:
    return aws_clients.dynamodb.get_item(TableName=settings().codes_table,
                                         Key=grants.code_key(code))["Item"]


def stored_token(aws_clients, key: dict) -> dict | None:
    return aws_clients.dynamodb.get_item(TableName=settings().tokens_table,
                                         Key=key).get("Item")


def token_pks(aws_clients) -> set[str]:
    """Every family, access and refresh item in the tokens table."""
    items = aws_clients.dynamodb.scan(TableName=settings().tokens_table)["Items"]
    return {i["pk"]["S"] for i in items if not i["pk"]["S"].startswith("consent#")}


def basic(client_id: str, secret: str, encode=lambda part: quote(part, safe="")) -> str:
    """RFC 6749 §2.3.1: each part form-urlencoded, then joined by ":" and base64-encoded."""
    pair = f"{encode(client_id)}:{encode(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def percent_encode_all(text: str) -> str:
    """Every character percent-encoded, the most a conforming client may do."""
    return "".join(f"%{byte:02X}" for byte in text.encode())


@dataclass
class OAuthClient:
    """A registered client talking to the back channel with one authentication method."""

    browser: object
    registered: dict
    method: str  # client_secret_basic, client_secret_post or none

    @property
    def client_id(self) -> str:
        return self.registered["client_id"]

    @property
    def secret(self) -> str | None:
        return self.registered.get("client_secret")

    def post(self, path: str, params, headers=None, credentials=True):
        """POST a form; `params` as a dict or as pairs (to repeat a parameter)."""
        pairs = list(params.items()) if isinstance(params, dict) else list(params)
        headers = dict(headers or {})
        if credentials and self.method == "client_secret_basic":
            headers.setdefault("Authorization", basic(self.client_id, self.secret))
        elif credentials:
            pairs.append(("client_id", self.client_id))
            if self.method == "client_secret_post":
                pairs.append(("client_secret", self.secret))
        return self.browser.request("POST", path, raw=urlencode(pairs).encode(),
                                    content_type=FORM, headers=headers)

    def exchange(self, code: str, headers=None, **params):
        """RFC 6749 §4.1.3; a parameter given as None is left out."""
        sent = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.registered["redirect_uris"][0],
                "code_verifier": VERIFIER, **params}
        return self.post(TOKEN, {k: v for k, v in sent.items() if v is not None}, headers)

    def refresh(self, refresh_token: str, **params):
        return self.post(TOKEN, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                 **params})

    def revoke(self, token: str, **params):
        return self.post(REVOKE, {"token": token, **params})

    def introspect(self, token: str, **params):
        return self.post(INTROSPECT, {"token": token, **params})

    def tokens(self, aws_clients, **fields) -> dict:
        """A fresh token response for a new code."""
        reply = self.exchange(write_code(aws_clients, self.registered, **fields))
        assert reply.status == 200, reply.body
        return reply.json


def oauth_client(api, method: str = "client_secret_basic", **fields) -> OAuthClient:
    client_type = "public" if method == "none" else "confidential"
    registered = register(api, client_type=client_type, **fields)
    return OAuthClient(api.anonymous(), registered, method)


class Clock:
    """The handlers' clock, moved by hand."""

    def __init__(self):
        self.now = int(time.time())

    def advance(self, seconds: int) -> None:
        self.now += seconds


def frozen_clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(clock, "now", lambda: moved.now)
    return moved


def _refusal(operation: str, code: str, reasons=None) -> ClientError:
    response = {"Error": {"Code": code, "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
    if reasons:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, operation)


@contextmanager
def failing(operation: str, code: str = "ThrottlingException", reasons=None,
            service=aws.dynamodb):
    """Every call of `operation` by the handlers' client fails with `code` meanwhile."""
    def refuse(model, **_):
        if model.name == operation:
            raise _refusal(operation, code, reasons)

    events = service().meta.events
    events.register("before-call.*.*", refuse)
    try:
        yield
    finally:
        events.unregister("before-call.*.*", refuse)


def assert_no_store(reply) -> None:
    assert reply.headers.get("Cache-Control") == "no-store"
    assert reply.headers.get("Pragma") == "no-cache"


def assert_error(reply, status: int, error: str) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.json["error"] == error, reply.body
    assert_no_store(reply)


def active(resource_server: OAuthClient, token: str) -> bool:
    """What introspection says of `token`, asked by a resource server."""
    reply = resource_server.introspect(token)
    assert reply.status == 200, reply.body
    return reply.json["active"]
