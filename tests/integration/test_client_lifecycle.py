"""The whole system over real HTTP: `python -m local`, sign-in through the provider's own
form, and the admin API's client lifecycle."""

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests

from local.resources import STACK_NAME
from local.stack import spawn
from oauth_server.client_secrets import SecretStore
from tests.integration.person import sign_in_at_provider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    child = spawn(settings={"REFRESH_REUSE_GRACE_SECONDS": "30"})
    yield child
    child.stop()
    assert child.returncode == 0


def sign_in(stack, subject: str, return_to: str = "/api/v1/session") -> requests.Session:
    """What a person does in the browser: open sign-in, type a subject, submit."""
    browser = requests.Session()
    page = browser.get(f"{stack.issuer}/oauth/v1/login/", params={"return_to": return_to})
    assert page.status_code == 200 and page.url.startswith(stack.provider_issuer)
    landed = sign_in_at_provider(browser, page, subject)
    assert landed.url == stack.issuer + return_to
    return browser


def test_admin_signs_in_through_the_provider_form(stack):
    browser = sign_in(stack, "admin")
    session = browser.get(f"{stack.admin_api_url}/session").json()
    assert session["user"]["sub"] == "admin"
    assert session["is_admin"] is True


def test_ordinary_person_is_refused_by_the_admin_api(stack):
    browser = sign_in(stack, "someone")
    assert browser.get(f"{stack.admin_api_url}/session").json()["is_admin"] is False
    assert browser.get(f"{stack.admin_api_url}/oauth-clients/").status_code == 403
    console = browser.get(stack.console_url)
    assert console.status_code == 403 and "Not an administrator" in console.text


def test_console_signs_in_and_comes_back(stack):
    browser = requests.Session()
    page = browser.get(stack.console_url)
    assert page.url.startswith(stack.provider_issuer)
    landed = sign_in_at_provider(browser, page, "admin")
    assert landed.url == stack.console_url
    assert "OAuth Client Applications" in landed.text


def test_client_lifecycle(stack):
    browser = sign_in(stack, "admin")
    api = stack.admin_api_url
    csrf = {"X-CSRF-Token": browser.get(f"{api}/session").json()["csrf_token"]}
    secrets = SecretStore(
        f"{STACK_NAME}/client-secrets/", moto_client(stack, "secretsmanager"),
    )

    refused = browser.post(f"{api}/oauth-clients/", json={"name": "x"})
    assert refused.status_code == 403, "no CSRF header, no change"

    created = browser.post(f"{api}/oauth-clients/", headers=csrf, json={
        "name": "LibreChat",
        "redirect_uris": ["https://chat.example.com/api/mcp/tools/oauth/callback"],
        "access_token_expiry": 7_200,
    })
    assert created.status_code == 201, created.text
    client = created.json()
    client_id, first_secret = client["client_id"], client["client_secret"]

    listed = browser.get(f"{api}/oauth-clients").json()["items"]
    assert [c["client_id"] for c in listed] == [client_id]
    assert "client_secret" not in browser.get(f"{api}/oauth-clients/{client_id}/").json()

    invalid = browser.patch(f"{api}/oauth-clients/{client_id}", headers=csrf,
                            json={"access_token_expiry": 259_201})
    assert invalid.status_code == 422
    assert invalid.json()["details"][0]["field"] == "access_token_expiry"

    patched = browser.patch(f"{api}/oauth-clients/{client_id}", headers=csrf,
                            json={"access_token_expiry": 259_200})
    assert patched.json()["access_token_expiry"] == 259_200

    version = current_version(stack, client_id)
    assert secrets.verify(client_id, version, first_secret)
    rotated = browser.post(f"{api}/oauth-clients/{client_id}/rotate-secret", headers=csrf)
    new_secret = rotated.json()["client_secret"]
    version = current_version(stack, client_id)
    assert secrets.verify(client_id, version, new_secret)
    assert not secrets.verify(client_id, version, first_secret)

    assert browser.delete(f"{api}/oauth-clients/{client_id}", headers=csrf).status_code == 204
    assert browser.get(f"{api}/oauth-clients/{client_id}").status_code == 404
    assert browser.get(f"{api}/oauth-clients").json()["items"] == []


def test_simultaneous_creates_with_one_name_one_wins(stack):
    """Separate execution environments racing for one name: the transaction lets one in."""
    browser = sign_in(stack, "admin")
    csrf = {"X-CSRF-Token": browser.get(f"{stack.admin_api_url}/session").json()["csrf_token"]}
    start = threading.Barrier(8)

    def create(index: int) -> int:
        start.wait()
        return browser.post(f"{stack.admin_api_url}/oauth-clients", headers=csrf, json={
            "name": "Race" if index % 2 else "RACE", "client_type": "public",
            "redirect_uris": ["http://127.0.0.1/cb"],
        }, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(8)))
    assert sorted(statuses) == [201] + [409] * 7
    listed = browser.get(f"{stack.admin_api_url}/oauth-clients").json()["items"]
    assert len([c for c in listed if c["name"].lower() == "race"]) == 1


def test_trailing_slash_and_unknown_routes_behave_as_api_gateway(stack):
    assert requests.get(f"{stack.issuer}/nowhere").json() == {"message": "Not Found"}
    anonymous = requests.get(f"{stack.admin_api_url}/session/")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "unauthorized"


def moto_client(stack, service: str):
    return boto3.client(service, endpoint_url=stack.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def current_version(stack, client_id: str) -> str:
    item = moto_client(stack, "dynamodb").get_item(
        TableName=f"{STACK_NAME}-ClientsTable", Key={"pk": {"S": f"client#{client_id}"}},
        ConsistentRead=True,
    )["Item"]
    return item["secret_version"]["S"]
