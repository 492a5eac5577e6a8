"""The admin API of SPEC.md §4, through the real handler, against moto."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from oauth_server.client_secrets import SecretStore
from oauth_server.config import settings

NEW_CLIENT = {
    "name": "Claude",
    "redirect_uris": [
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
    ],
}


def create(api, **fields):
    response = api.post("/api/v1/oauth-clients/", {**NEW_CLIENT, **fields})
    assert response.status == 201, response.body
    return response.json


# Authentication -----------------------------------------------------------------------------

def test_session_without_cookie_is_401(api):
    response = api.anonymous().get("/api/v1/session")
    assert response.status == 401
    assert response.json["error"] == "unauthorized"


def test_session_describes_the_person(api):
    body = api.get("/api/v1/session").json
    assert body["user"] == {"sub": "admin", "name": "Admin", "email": "admin@example.com"}
    assert body["is_admin"] is True
    assert body["csrf_token"] == api.csrf_token


def test_non_admin_gets_403_but_may_read_own_session(api):
    person = api.as_person("bob", is_admin=False)
    assert person.get("/api/v1/session").json["is_admin"] is False
    response = person.get("/api/v1/oauth-clients")
    assert response.status == 403
    assert response.json["error"] == "forbidden"


def test_tampered_session_cookie_is_401(api):
    name, value = api.cookie.split("=", 1)
    forged = api.with_cookie(f"{name}={value[:-2]}xx")
    assert forged.get("/api/v1/oauth-clients").status == 401


def test_expired_session_cookie_is_401(api):
    expired = api.as_person("admin", is_admin=True, lifetime=-1)
    assert expired.get("/api/v1/oauth-clients").status == 401


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_changes_without_the_right_csrf_token_are_refused(api, token):
    response = api.with_csrf(token).post("/api/v1/oauth-clients", NEW_CLIENT)
    assert response.status == 403
    assert response.json["error"] == "csrf_failed"
    assert api.get("/api/v1/oauth-clients").json["items"] == []


def test_reads_need_no_csrf_token(api):
    assert api.with_csrf(None).get("/api/v1/oauth-clients").status == 200


# Create, list, get ---------------------------------------------------------------------------

def test_create_confidential_client_returns_secret_once(api):
    body = create(api)
    assert body["client_type"] == "confidential"
    assert len(body["client_secret"]) >= 43
    assert body["access_token_expiry"] == 3_600
    assert body["refresh_token_expiry"] == 2_592_000
    assert body["pkce_required"] is True
    assert body["created_at"].endswith("Z") and body["created_at"] == body["updated_at"]
    shown = api.get(f"/api/v1/oauth-clients/{body['client_id']}").json
    assert "client_secret" not in shown
    assert shown == {k: v for k, v in body.items() if k != "client_secret"}


def test_secret_is_stored_only_as_a_hash(api, aws_clients):
    body = create(api)
    name = settings().client_secret_prefix + body["client_id"]
    stored = aws_clients.secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    assert body["client_secret"] not in stored
    assert len(stored) == 64


def test_public_client_has_no_secret(api):
    body = create(api, client_type="public")
    assert "client_secret" not in body
    rotate = api.post(f"/api/v1/oauth-clients/{body['client_id']}/rotate-secret")
    assert rotate.status == 422


def test_list_is_newest_first(api):
    first = create(api, name="First")
    second = create(api, name="Second")
    items = api.get("/api/v1/oauth-clients/").json["items"]
    assert [c["client_id"] for c in items] == [second["client_id"], first["client_id"]]
    assert all("client_secret" not in c for c in items)


def test_validation_errors_name_every_field(api):
    response = api.post("/api/v1/oauth-clients", {
        "name": " ", "redirect_uris": ["http://evil.example/cb"], "access_token_expiry": 3_599,
    })
    assert response.status == 422
    assert response.json["error"] == "validation_failed"
    fields = {d["field"] for d in response.json["details"]}
    assert fields == {"name", "redirect_uris[0]", "access_token_expiry"}


def test_names_are_unique_without_regard_to_case(api):
    create(api, name="Cursor")
    response = api.post("/api/v1/oauth-clients", {**NEW_CLIENT, "name": "  cURSOR "})
    assert response.status == 409
    assert response.json["error"] == "name_taken"
    assert len(api.get("/api/v1/oauth-clients").json["items"]) == 1


def test_losing_create_leaves_no_secret_behind(api, aws_clients):
    create(api, name="Cursor")
    api.post("/api/v1/oauth-clients", {**NEW_CLIENT, "name": "CURSOR"})
    secrets = aws_clients.secretsmanager.list_secrets()["SecretList"]
    prefix = settings().client_secret_prefix
    assert len([s for s in secrets if s["Name"].startswith(prefix)]) == 1


def test_two_concurrent_creates_with_one_name_one_wins(api, aws_clients):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(
            lambda name: api.post("/api/v1/oauth-clients", {**NEW_CLIENT, "name": name}),
            ["VS Code", "vs code"],
        ))
    assert sorted(r.status for r in results) == [201, 409]
    assert len(api.get("/api/v1/oauth-clients").json["items"]) == 1


def test_unknown_client_is_404(api):
    for path in ["/api/v1/oauth-clients/nope", "/api/v1/oauth-clients/%00weird"]:
        response = api.get(path)
        assert response.status == 404
        assert response.json["error"] == "not_found"


# Bad requests -------------------------------------------------------------------------------

def test_malformed_json_is_400(api):
    response = api.post("/api/v1/oauth-clients", raw=b"{not json")
    assert response.status == 400
    assert response.json["error"] == "invalid_json"


def test_json_that_is_not_an_object_is_400(api):
    assert api.post("/api/v1/oauth-clients", [NEW_CLIENT]).status == 400


def test_wrong_content_type_is_415(api):
    response = api.post("/api/v1/oauth-clients", raw=b"name=x", content_type="text/plain")
    assert response.status == 415


def test_oversized_body_is_413(api):
    body = {**NEW_CLIENT, "name": "x" * 70_000}
    assert api.post("/api/v1/oauth-clients", body).status == 413


def test_wrong_method_is_405_with_allow(api):
    response = api.request("PUT", "/api/v1/oauth-clients", {})
    assert response.status == 405
    assert response.headers["Allow"] == "GET, POST"


def test_unknown_path_is_json_404(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status == 404
    assert response.json["error"] == "not_found"


# Patch ----------------------------------------------------------------------------------------

def test_patch_changes_only_the_given_fields(api):
    client = create(api)
    path = f"/api/v1/oauth-clients/{client['client_id']}"
    response = api.patch(path, {"access_token_expiry": 259_200, "name": "Claude Desktop"})
    assert response.status == 200
    body = response.json
    assert body["access_token_expiry"] == 259_200
    assert body["name"] == "Claude Desktop"
    assert body["redirect_uris"] == client["redirect_uris"]
    assert body["updated_at"] >= client["updated_at"]
    assert api.get(path).json == body


def test_patch_rename_frees_the_old_name(api):
    client = create(api, name="Old")
    api.patch(f"/api/v1/oauth-clients/{client['client_id']}", {"name": "New"})
    assert create(api, name="old")["name"] == "old"
    clash = api.post("/api/v1/oauth-clients", {**NEW_CLIENT, "name": "NEW"})
    assert clash.status == 409


def test_patch_to_a_taken_name_is_409_and_changes_nothing(api):
    create(api, name="Taken")
    client = create(api, name="Mine")
    path = f"/api/v1/oauth-clients/{client['client_id']}"
    response = api.patch(path, {"name": "taken", "access_token_expiry": 7_200})
    assert response.status == 409
    assert api.get(path).json["access_token_expiry"] == 3_600


def test_patch_changing_only_case_of_name_is_allowed(api):
    client = create(api, name="cursor")
    response = api.patch(f"/api/v1/oauth-clients/{client['client_id']}", {"name": "Cursor"})
    assert response.status == 200 and response.json["name"] == "Cursor"


def test_patch_cannot_change_client_type(api):
    client = create(api)
    response = api.patch(f"/api/v1/oauth-clients/{client['client_id']}",
                         {"client_type": "public"})
    assert response.status == 422
    assert response.json["details"][0]["field"] == "client_type"


def test_patch_cannot_turn_off_pkce_for_a_public_client(api):
    client = create(api, client_type="public")
    response = api.patch(f"/api/v1/oauth-clients/{client['client_id']}",
                         {"pkce_required": False})
    assert response.status == 422


def test_patch_invalid_value_changes_nothing(api):
    client = create(api)
    path = f"/api/v1/oauth-clients/{client['client_id']}"
    assert api.patch(path, {"refresh_token_expiry": 15_552_001}).status == 422
    assert api.get(path).json == {k: v for k, v in client.items() if k != "client_secret"}


def test_patch_unknown_client_is_404(api):
    assert api.patch("/api/v1/oauth-clients/nope", {"name": "x"}).status == 404


# Rotate and delete ----------------------------------------------------------------------------

def test_rotation_refuses_the_old_secret_at_once_even_when_cached(api, aws_clients):
    client = create(api)
    client_id, old = client["client_id"], client["client_secret"]
    checker = SecretStore(settings().client_secret_prefix, aws_clients.secretsmanager)
    assert checker.verify(client_id, stored_version(aws_clients, client_id), old)  # now cached

    rotated = api.post(f"/api/v1/oauth-clients/{client_id}/rotate-secret")
    assert rotated.status == 200
    new = rotated.json["client_secret"]
    assert rotated.json["client_id"] == client_id and new != old

    version = stored_version(aws_clients, client_id)
    assert checker.verify(client_id, version, new)
    assert not checker.verify(client_id, version, old)


def test_rotation_of_unknown_client_is_404(api):
    assert api.post("/api/v1/oauth-clients/nope/rotate-secret").status == 404


def test_delete_removes_client_name_and_secret(api, aws_clients):
    client = create(api, name="Gone")
    path = f"/api/v1/oauth-clients/{client['client_id']}"
    response = api.delete(path)
    assert response.status == 204 and response.body == ""
    assert api.get(path).status == 404
    assert api.delete(path).status == 404
    prefix = settings().client_secret_prefix
    assert not [s for s in aws_clients.secretsmanager.list_secrets()["SecretList"]
                if s["Name"].startswith(prefix)]
    assert create(api, name="gone")["name"] == "gone"


def stored_version(aws_clients, client_id: str) -> str:
    item = aws_clients.dynamodb.get_item(
        TableName=settings().clients_table, Key={"pk": {"S": f"client#{client_id}"}},
    )["Item"]
    return item["secret_version"]["S"]


def test_error_bodies_have_the_documented_shape(api):
    body = api.get("/api/v1/oauth-clients/nope").json
    assert set(body) == {"error", "message", "details"}
    assert json.dumps(body)
