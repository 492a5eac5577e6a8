"""Steps of the authorization-code flow shared by the authorize and consent tests."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from botocore.exceptions import ClientError

from local.harness import forms
from oauth_server import aws
from oauth_server.config import settings

REDIRECT_URI = "https://app.example.com/callback"
RESOURCE = "https://mcp.example.com/mcp"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


VERIFIER = "v" * 43 + "-verifier"
CHALLENGE = s256(VERIFIER)


def register(api, **fields) -> dict:
    """A client registered through the admin API, as an administrator would."""
    body = {"name": f"App {secrets.token_hex(4)}", "redirect_uris": [REDIRECT_URI], **fields}
    response = api.post("/api/v1/oauth-clients", body)
    assert response.status == 201, response.body
    return response.json


def person(api, sub: str = "bob"):
    """The browser of an ordinary person who is signed in."""
    return api.as_person(sub, is_admin=False)


def request_params(client: dict, **params) -> dict:
    """A valid authorization request of `client`; a parameter given as None is left out."""
    defaults = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "scope": "mcp:read",
        "state": "state-123",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    merged = {**defaults, **params}
    return {name: value for name, value in merged.items() if value is not None}


def authorize(browser, client: dict, **params):
    return browser.get("/oauth/v1/authorize/", query=request_params(client, **params))


def authorize_raw(browser, raw_query: str):
    return browser.get(f"/oauth/v1/authorize?{raw_query}")


def location(reply) -> str:
    assert reply.status in (302, 303), (reply.status, reply.body[:500])
    return reply.headers["Location"]


def query_of(url: str) -> dict[str, str]:
    pairs = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in pairs.values()), url
    return {name: values[0] for name, values in pairs.items()}


def error_of(reply) -> dict[str, str]:
    """The error response a client receives (RFC 6749 §4.1.2.1)."""
    answer = query_of(location(reply))
    assert "error" in answer and "code" not in answer, answer
    return answer


def is_consent_redirect(reply) -> bool:
    return location(reply).startswith(f"{settings().issuer}/oauth/v1/consent?request=")


def consent_path(reply) -> str:
    assert is_consent_redirect(reply), location(reply)
    return location(reply).removeprefix(settings().issuer)


def consent_form(page) -> dict[str, str]:
    """The hidden fields of the consent page's form."""
    assert page.status == 200, (page.status, page.body[:500])
    [form] = forms(page.body)
    assert ("decision", "approve") in form.buttons and ("decision", "deny") in form.buttons
    return form.fields


def answer(browser, reply, decision: str):
    """Open the consent page `reply` sent the browser to, and press a button."""
    form = consent_form(browser.get(consent_path(reply)))
    return browser.post_form("/oauth/v1/consent/", {**form, "decision": decision})


def approve(browser, reply):
    return answer(browser, reply, "approve")


def code_of(reply) -> str:
    answer_ = query_of(location(reply))
    assert "error" not in answer_, answer_
    return answer_["code"]


def items(aws_clients, table: str, prefix: str) -> list[dict]:
    scanned = aws_clients.dynamodb.scan(TableName=table)["Items"]
    return [item for item in scanned if item["pk"]["S"].startswith(prefix)]


def code_items(aws_clients) -> list[dict]:
    return items(aws_clients, settings().codes_table, "code#")


def pending_items(aws_clients) -> list[dict]:
    return items(aws_clients, settings().codes_table, "authz#")


def consent_items(aws_clients) -> list[dict]:
    return items(aws_clients, settings().tokens_table, "consent#")


def fail_dynamodb(operation: str, code: str = "ThrottlingException"):
    """Make every later `operation` of the handlers' DynamoDB client fail with `code`."""
    def refuse(model, **_):
        if model.name == operation:
            raise ClientError({"Error": {"Code": code, "Message": "injected"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)

    aws.dynamodb().meta.events.register("before-call.dynamodb.*", refuse)


def login_path(reply) -> str:
    """The sign-in this server sent the browser to, as a path on this server."""
    target = location(reply)
    assert target.startswith(f"{settings().issuer}/oauth/v1/login?"), target
    return target.removeprefix(settings().issuer)


def return_to_of(reply) -> str:
    return query_of(login_path(reply))["return_to"]


def with_query(path: str, params: dict) -> str:
    return f"{path}?{urlencode(params)}"


def provider_redirect(provider_form_url: str, sub: str) -> str:
    """Submit the provider's login form as a person would; returns the callback URL."""
    response = requests.post(provider_form_url, data={"sub": sub}, allow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def sign_in(front, reply, sub: str = "bob"):
    """Follow the server's sign-in redirect `reply` through the real provider.

    Returns the callback's reply: it sets the session and sends the browser back.
    """
    login = front.get(login_path(reply))
    callback = provider_redirect(location(login), sub)
    assert callback.startswith(settings().callback_url + "?"), callback
    landed = front.with_cookies(login.cookies).get(callback.removeprefix(settings().issuer))
    assert landed.status == 303 and landed.session_cookie_set, landed.body[:500]
    return landed


def assert_error_page(reply, status: int = 400) -> None:
    assert reply.status == status, (reply.status, reply.headers.get("Location"))
    assert "Location" not in reply.headers
    assert reply.headers["Content-Type"].startswith("text/html")
    assert_security_headers(reply)


def assert_security_headers(reply) -> None:
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers[name] == value, name
    assert not [h for h in reply.headers if h.lower().startswith("access-control-")]
