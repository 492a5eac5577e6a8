"""The authorization-code flow end to end, through `python -m local`, with an OAuth client
library nobody here wrote (authlib's OAuth2Session), as a confidential and as a public client.
"""

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from local.harness import Form, forms
from tests.integration.person import sign_in_at_provider, submit

pytestmark = pytest.mark.integration

# Nothing listens here: the browser stops at the redirect and hands its URL to the app.
REDIRECT_URI = "http://127.0.0.1:53682/callback"
RESOURCE = "https://mcp.example.com/mcp"


def register(stack, admin_api, client_type: str, redirect_uri: str = REDIRECT_URI) -> dict:
    response = admin_api.post(f"{stack.admin_api_url}/oauth-clients", json={
        "name": f"{client_type} app {secrets.token_hex(4)}",
        "client_type": client_type,
        "redirect_uris": [redirect_uri],
    })
    assert response.status_code == 201, response.text
    return response.json()


def consent_form(page: requests.Response) -> tuple[Form, tuple[str, str]]:
    """The consent page's form and its Approve button."""
    for form in forms(page.text):
        for name, value in form.buttons:
            if "approve" in f"{name} {value}".lower():
                return form, (name, value)
    raise AssertionError(f"no Approve button on {page.url}:\n{page.text[:2000]}")


def authorize_in_browser(stack, authorization_url: str, subject: str) -> str:
    """A person opens the app's link, signs in, approves; returns where the browser lands."""
    browser = requests.Session()
    page = browser.get(authorization_url)
    assert page.url.startswith(stack.provider_issuer), "not signed in: sent to sign in"
    consent = sign_in_at_provider(browser, page, subject)
    assert consent.status_code == 200 and "/oauth/v1/consent" in consent.url
    form, (button, value) = consent_form(consent)
    done = submit(browser, consent, form, {button: value}, follow=False)
    assert done.status_code == 303
    return done.headers["Location"]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def introspect(stack, server: dict, token: str) -> dict:
    response = requests.post(f"{stack.issuer}/oauth/v1/introspect", data={"token": token},
                             auth=(server["client_id"], server["client_secret"]))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("client_type", ["confidential", "public"])
def test_authorization_code_flow_with_authlib(stack, admin_api, client_type):
    app = register(stack, admin_api, client_type)
    resource_server = register(stack, admin_api, "confidential", "https://rs.example.com/cb")
    session = OAuth2Session(
        client_id=app["client_id"],
        client_secret=app.get("client_secret"),
        token_endpoint_auth_method="client_secret_basic" if client_type == "confidential"
        else "none",
        scope="mcp:read",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(64)
    url, state = session.create_authorization_url(
        f"{stack.issuer}/oauth/v1/authorize/", code_verifier=verifier, resource=RESOURCE)

    landed = authorize_in_browser(stack, url, "alice")
    assert landed.startswith(REDIRECT_URI)
    assert query(landed)["state"] == state
    assert query(landed)["iss"] == stack.issuer

    token = session.fetch_token(f"{stack.issuer}/oauth/v1/token/",
                                authorization_response=landed, code_verifier=verifier)
    assert token["token_type"] == "Bearer" and token["scope"] == "mcp:read"
    assert token["access_token"].startswith("oat_") and token["refresh_token"].startswith("ort_")

    described = introspect(stack, resource_server, token["access_token"])
    assert described["active"] is True
    assert described["sub"] == "alice" and described["client_id"] == app["client_id"]
    assert RESOURCE in (described["aud"] if isinstance(described["aud"], list)
                        else [described["aud"]])

    refreshed = session.refresh_token(f"{stack.issuer}/oauth/v1/token",
                                      refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert introspect(stack, resource_server, refreshed["access_token"])["active"] is True

    revoked = session.revoke_token(f"{stack.issuer}/oauth/v1/revoke",
                                   token=refreshed["refresh_token"],
                                   token_type_hint="refresh_token")
    assert revoked.status_code == 200
    for access_token in (token["access_token"], refreshed["access_token"]):
        assert introspect(stack, resource_server, access_token) == {"active": False}


def test_twenty_simultaneous_redemptions_one_wins_and_its_tokens_end(stack, admin_api):
    app = register(stack, admin_api, "confidential")
    resource_server = register(stack, admin_api, "confidential", "https://rs.example.com/cb")
    verifier = secrets.token_urlsafe(64)
    session = OAuth2Session(app["client_id"], app["client_secret"], scope="mcp:read",
                            redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    url, _ = session.create_authorization_url(f"{stack.issuer}/oauth/v1/authorize",
                                              code_verifier=verifier)
    code = query(authorize_in_browser(stack, url, "carol"))["code"]

    start = threading.Barrier(20)

    def redeem(_):
        start.wait()
        return requests.post(f"{stack.issuer}/oauth/v1/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }, auth=(app["client_id"], app["client_secret"]), timeout=30)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(redeem, range(20)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1, [a.status_code for a in answers]
    assert {a.json()["error"] for a in answers if a.status_code != 200} == {"invalid_grant"}
    assert introspect(stack, resource_server, winners[0].json()["access_token"]) == {
        "active": False}
