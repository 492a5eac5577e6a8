"""Every route answers malformed and hostile requests with a 4xx and a readable body: never
a 500, never a stack trace."""

import pytest

from local.harness import TEMPLATE

HOSTILE_BODIES = [
    b"\xff\xfe\x00garbage",
    b"{" * 5_000,
    b"a=" + b"%" * 3_000,
    b"grant_type=authorization_code&code=%00%ff&code_verifier=" + b"x" * 500,
    b'{"name": {"$gt": ""}, "redirect_uris": [null, 1, {}]}',
    b"x" * 70_000,
]
HOSTILE_QUERIES = [
    "client_id=%00&redirect_uri=javascript:alert(1)&response_type=code",
    "state=%ff%fe&client_id=" + "a" * 3_000,
    "a=1&a=2&a=3&" * 50,
    "%zz=%zz",
    "return_to=//evil.example&code=x&state=y",
]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def routes() -> list[tuple[str, str]]:
    """Each method and path of template.yaml's routes, {proxy+} filled with a slash."""
    found = []
    for resource in TEMPLATE["Resources"].values():
        if resource["Type"] == "AWS::ApiGatewayV2::Route":
            method, path = resource["Properties"]["RouteKey"].split(" ", 1)
            path = path.replace("{proxy+}", "").replace("/.well-known/", "/.well-known/x")
            for verb in (["GET", "POST", "PUT", "DELETE"] if method == "ANY" else [method]):
                found.append((verb, path))
    return sorted(set(found))


def assert_handled(reply) -> None:
    assert reply.status < 500, (reply.status, reply.body[:300])
    assert "Traceback" not in reply.body and 'File "' not in reply.body


@pytest.mark.parametrize("method, path", routes())
def test_hostile_bodies_and_queries_are_refused_cleanly(api, method, path):
    for browser in (api, api.anonymous()):
        for query in HOSTILE_QUERIES:
            assert_handled(browser.request(method, f"{path}?{query}"))
        if method in ("POST", "PUT"):
            for body in HOSTILE_BODIES:
                for content_type in CONTENT_TYPES:
                    assert_handled(browser.request(method, path, raw=body,
                                                   content_type=content_type))


def test_forged_and_oversized_cookies_are_no_session(api):
    for cookie in ["oauth_session=" + "A" * 4_000, "__Host-oauth_session=v1.%%%.%%%",
                   "__Host-oauth_session=v1." + "e30" + ".x", "__Host-oauth_login=\x7f"]:
        reply = api.anonymous().with_cookies([cookie]).get("/api/v1/session")
        assert reply.status == 401, reply.body
