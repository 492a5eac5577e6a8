"""Fixtures: moto holding the template's own tables and secrets, the real handlers behind the
local gateway (routed from template.yaml, called in-process), and a real OpenID Connect
provider on a thread."""

import json
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws
from oidc_provider_mock import User, run_server_in_thread

from local.cfn_yaml import load_template
from local.functions import functions_from_template
from local.gateway import Gateway, HttpRequest, RouteTable
from local.provider import ADMIN_CLAIMS, ADMIN_SUBJECT
from local.resources import create_secrets, create_tables, function_environment, local_resolver

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = load_template(ROOT / "template.yaml")
ISSUER = "https://auth.example.test"  # https, as deployed: cookies get Secure and __Host-


@pytest.fixture(scope="session")
def provider():
    """oidc-provider-mock, where `admin` is in the admin group."""
    admin = User(sub=ADMIN_SUBJECT, claims=ADMIN_CLAIMS)
    with run_server_in_thread(port=0, user_claims=[admin]) as server:
        server.issuer = f"http://localhost:{server.server_port}"
        yield server


def _forget_process_state():
    """What a warm Lambda keeps between requests; each test starts a cold process."""
    import admin_handler
    import authorize_handler
    import token_handler

    from oauth_server import aws, browser, config, id_tokens, signin

    for cached in (config.settings, aws.dynamodb, aws.secretsmanager, browser.signing_key,
                   admin_handler.admin, authorize_handler.upstream, authorize_handler.endpoint,
                   signin.provider_metadata, token_handler.endpoints):
        cached.cache_clear()
    id_tokens._key_sets.clear()


@dataclass
class AwsClients:
    dynamodb: object
    secretsmanager: object


@pytest.fixture
def aws_clients(monkeypatch, provider):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        clients = AwsClients(boto3.client("dynamodb"), boto3.client("secretsmanager"))
        resolver = local_resolver(TEMPLATE, {})
        create_tables(clients.dynamodb, TEMPLATE, resolver)
        create_secrets(clients.secretsmanager, TEMPLATE, resolver)
        environment = function_environment(TEMPLATE, resolver, {
            "ISSUER": ISSUER,
            "UPSTREAM_ISSUER": provider.issuer,
            "UPSTREAM_CLIENT_ID": "oauth-server-test",
        })
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        clients.resolver = resolver
        _forget_process_state()
        yield clients
        _forget_process_state()


@pytest.fixture
def aws_calls(aws_clients) -> list[str]:
    """The name of every AWS operation the handlers call from now on, in order.

    Counted with botocore's `before-call` hook on the clients the handlers share, so a retry
    counts once, as one round trip would; DESIGN.md's budgets are held against this list.
    """
    from oauth_server import aws

    calls: list[str] = []
    for client in (aws.dynamodb(), aws.secretsmanager()):
        client.meta.events.register(
            "before-call.*.*", lambda model, **_: calls.append(model.name))
    return calls


@pytest.fixture
def gateway(aws_clients):
    resolver = aws_clients.resolver
    functions = functions_from_template(TEMPLATE, resolver, ROOT)
    return Gateway(RouteTable.from_template(TEMPLATE, resolver), functions, quiet=True)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: str

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def cookies(self) -> list[str]:
        """The cookies a browser would now send: `name=value` for each one set."""
        jar = []
        for header in self.set_cookies:
            parsed = SimpleCookie()
            parsed.load(header)
            jar += [f"{m.key}={m.value}" for m in parsed.values() if m["max-age"] != "0"]
        return jar

    @property
    def session_cookie_set(self) -> bool:
        return any("oauth_session=" in c and "Max-Age=0" not in c for c in self.set_cookies)


@dataclass
class Browser:
    """Requests through the gateway, as a browser or script would send them over HTTP."""

    gateway: Gateway
    cookie_jar: list[str] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)

    def request(self, method, path, json_body=None, *, raw=None, query=None,
                content_type="application/json", headers=None) -> Reply:
        target = path + (f"?{urlencode(query)}" if query else "")
        sent = [("Host", "auth.example.test"), ("User-Agent", "pytest")]
        sent += list({**self.extra_headers, **(headers or {})}.items())
        if self.cookie_jar:
            sent.append(("Cookie", "; ".join(self.cookie_jar)))
        body = raw if raw is not None else (
            json.dumps(json_body).encode() if json_body is not None else b"")
        if body:
            sent.append(("Content-Type", content_type))
        response = self.gateway.handle(HttpRequest(method, target, sent, body))
        headers_out = {k: v for k, v in response.headers if k.lower() != "set-cookie"}
        set_cookies = [v for k, v in response.headers if k.lower() == "set-cookie"]
        return Reply(response.status, headers_out, set_cookies, response.body.decode())

    def get(self, path, query=None, **kwargs) -> Reply:
        return self.request("GET", path, query=query, **kwargs)

    def post(self, path, json_body=None, **kwargs) -> Reply:
        return self.request("POST", path, json_body, **kwargs)

    def patch(self, path, json_body=None, **kwargs) -> Reply:
        return self.request("PATCH", path, json_body, **kwargs)

    def delete(self, path, **kwargs) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def post_form(self, path, form: dict) -> Reply:
        return self.request("POST", path, raw=urlencode(form).encode(),
                            content_type="application/x-www-form-urlencoded")

    def with_cookies(self, cookies: list[str]) -> "Browser":
        return Browser(self.gateway, list(cookies), dict(self.extra_headers))

    def session(self):
        """The session this browser's cookie holds, read as the server reads it."""
        from oauth_server import browser
        event = {"cookies": self.cookie_jar}
        return browser.read_session(event)


@dataclass
class AdminApi(Browser):
    """An administrator's script: session cookie and CSRF header on every request."""

    cookie: str = ""
    csrf_token: str = ""

    def anonymous(self) -> Browser:
        return Browser(self.gateway)

    def as_person(self, sub: str, is_admin: bool, lifetime: int = 600) -> "AdminApi":
        return signed_in_api(self.gateway, sub, is_admin, lifetime)

    def with_cookie(self, cookie: str) -> "AdminApi":
        return AdminApi(self.gateway, [cookie], dict(self.extra_headers), cookie,
                        self.csrf_token)

    def with_csrf(self, token: str | None) -> "AdminApi":
        headers = {k: v for k, v in self.extra_headers.items() if k != "X-CSRF-Token"}
        if token is not None:
            headers["X-CSRF-Token"] = token
        return AdminApi(self.gateway, list(self.cookie_jar), headers, self.cookie, token or "")


def signed_in_api(gateway: Gateway, sub: str, is_admin: bool, lifetime: int) -> AdminApi:
    from oauth_server import browser
    from oauth_server.sessions import Session

    session = Session(sub=sub, name=ADMIN_CLAIMS["name"] if sub == ADMIN_SUBJECT else sub,
                      email=f"{sub}@example.com", is_admin=is_admin,
                      csrf_token=f"csrf-{sub}-{time.monotonic_ns()}",
                      expires_at=int(time.time()) + lifetime)
    cookie = browser.session_cookie(session)
    pair = f"{cookie.name}={cookie.value}"
    return AdminApi(gateway, [pair], {"X-CSRF-Token": session.csrf_token}, pair,
                    session.csrf_token)


@pytest.fixture
def api(gateway) -> AdminApi:
    return signed_in_api(gateway, ADMIN_SUBJECT, is_admin=True, lifetime=600)


@pytest.fixture
def front(gateway) -> Browser:
    return Browser(gateway)
