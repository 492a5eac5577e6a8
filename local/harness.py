"""The real handlers in this process, behind the local gateway, with moto's in-process mock.

What the functional tests and the benchmarks share: moto holding template.yaml's own tables
and secrets, the functions' environment, the gateway routed from the template, requests sent
as a browser or a script would send them, and a signed-in session minted without the
upstream provider. Nothing here runs a server; every request is a function call.
"""

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import boto3
from moto import mock_aws

from local.cfn_yaml import load_template
from local.functions import functions_from_template
from local.gateway import Gateway, HttpRequest, RouteTable
from local.intrinsics import Resolver
from local.provider import ADMIN_CLAIMS, ADMIN_SUBJECT
from local.resources import create_secrets, create_tables, function_environment, local_resolver

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = load_template(ROOT / "template.yaml")
ISSUER = "https://auth.example.test"  # https, as deployed: cookies get Secure and __Host-

# Credentials moto accepts; the variables dropped would point boto3 elsewhere than moto.
_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
_DROPPED = ("AWS_ENDPOINT_URL", "AWS_PROFILE")


class EnvironPatch(Protocol):
    """Sets variables and undoes it afterwards: pytest's monkeypatch, or MonkeyPatch.context()."""

    def setenv(self, name: str, value: str) -> None: ...

    def delenv(self, name: str, raising: bool = True) -> None: ...


def handler_import_roots() -> list[str]:
    """Where Lambda imports each function from: its code, then its layers (template.yaml)."""
    functions = functions_from_template(TEMPLATE, local_resolver(TEMPLATE, {}), ROOT)
    roots = [str(d) for f in functions.values() for d in f.code_dirs]
    return list(dict.fromkeys(roots))


def forget_process_state() -> None:
    """What a warm Lambda keeps between requests; forgetting it makes the process cold."""
    import admin_handler
    import authorize_handler
    import token_handler

    from oauth_server import aws, browser, config, id_tokens, log, signin

    for cached in (config.settings, aws.dynamodb, aws.secretsmanager, browser.signing_key,
                   admin_handler.admin, authorize_handler.upstream, authorize_handler.endpoint,
                   signin.provider_metadata, token_handler.endpoints, log.metrics):
        cached.cache_clear()
    id_tokens._key_sets.clear()
    log.metrics().clear_metrics()  # counted by code that ran outside a request


@dataclass
class AwsClients:
    """Clients of the mocked AWS for the caller's own use, apart from the handlers' clients."""

    dynamodb: object
    secretsmanager: object
    resolver: Resolver | None = None


@contextmanager
def mocked_aws(env: EnvironPatch, upstream_issuer: str,
               upstream_client_id: str = "oauth-server-test") -> Iterator[AwsClients]:
    """moto with the template's tables and secrets, and the functions' environment in `env`.

    The process starts cold and is made cold again on the way out.
    """
    for name, value in _FAKE_CREDENTIALS.items():
        env.setenv(name, value)
    for name in _DROPPED:
        env.delenv(name, raising=False)
    with mock_aws():
        clients = AwsClients(boto3.client("dynamodb"), boto3.client("secretsmanager"))
        clients.resolver = local_resolver(TEMPLATE, {})
        create_tables(clients.dynamodb, TEMPLATE, clients.resolver)
        create_secrets(clients.secretsmanager, TEMPLATE, clients.resolver)
        environment = function_environment(TEMPLATE, clients.resolver, {
            "ISSUER": ISSUER,
            "UPSTREAM_ISSUER": upstream_issuer,
            "UPSTREAM_CLIENT_ID": upstream_client_id,
        })
        for name, value in environment.items():
            env.setenv(name, value)
        forget_process_state()
        try:
            yield clients
        finally:
            forget_process_state()


def record_aws_calls() -> list[str]:
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


def local_gateway(resolver: Resolver) -> Gateway:
    """The template's routes, each calling its real handler in this process."""
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

    def post_form(self, path, form: Mapping) -> Reply:
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
    """A session cookie minted as the callback would mint it, without the upstream sign-in."""
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


@dataclass
class Form:
    """A form of a page, as a browser would submit it."""
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # inputs with a name, hidden included
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of submits


class FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(attrs.get("action", ""), attrs.get("method", "get").lower()))
        elif not self.forms or not attrs.get("name"):
            return
        elif tag == "button" or (tag == "input" and attrs.get("type") == "submit"):
            self.forms[-1].buttons.append((attrs["name"], attrs.get("value", "")))
        elif tag == "input":
            self.forms[-1].fields[attrs["name"]] = attrs.get("value", "")


def forms(html: str) -> list[Form]:
    """Every form of a page, in order."""
    reader = FormReader()
    reader.feed(html)
    return reader.forms