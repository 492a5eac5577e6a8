"""CloudWatch metrics in embedded metric format: one count per outcome, named as its log line
(DESIGN.md, "Logging and metrics")."""

import json

from local.resources import STACK_NAME
from oauth_server.tokens import TokenStore
from tests.functional.token_flows import write_code


def published(capsys) -> list[dict]:
    """The EMF documents the handlers printed: JSON lines that carry an `_aws` block."""
    lines = (line for line in capsys.readouterr().out.splitlines() if line.startswith("{"))
    return [doc for doc in map(json.loads, lines) if "_aws" in doc]


def counts(documents: list[dict]) -> dict[str, int]:
    found: dict[str, int] = {}
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                found[metric["Name"]] = found.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value)
    return found


def test_an_exchange_publishes_one_token_issued_count(client, aws_clients, capsys):
    code = write_code(aws_clients, client.registered)
    capsys.readouterr()
    reply = client.exchange(code)
    assert reply.status == 200
    [document] = published(capsys)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == f"OAuthServer/{STACK_NAME}"
    assert directive["Dimensions"] == [["service"]]
    assert document["service"] == "oauth-server"
    assert counts([document]) == {"token.issued": 1}
    # Only names and counts: no client, person, code or token rides along.
    text = json.dumps(document)
    for value in (code, client.client_id, reply.json["access_token"],
                  reply.json["refresh_token"], "bob"):
        assert value not in text


def test_a_replayed_code_is_counted_under_its_own_name(client, aws_clients, capsys):
    code = write_code(aws_clients, client.registered)
    assert client.exchange(code).status == 200
    capsys.readouterr()
    assert client.exchange(code).status == 400
    assert counts(published(capsys)) == {"code.replayed": 1}


def test_each_request_publishes_only_its_own_counts(client, aws_clients, capsys):
    tokens = client.tokens(aws_clients)
    capsys.readouterr()
    assert client.refresh(tokens["refresh_token"]).status == 200
    assert client.revoke(tokens["access_token"]).status == 200
    assert counts(published(capsys)) == {"token.refreshed": 1, "token.revoked": 1}


def test_a_request_that_fails_on_a_defect_is_counted(client, aws_clients, capsys,
                                                     monkeypatch):
    def explode(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(TokenStore, "code_and_client", explode)
    code = write_code(aws_clients, client.registered)
    capsys.readouterr()
    assert client.exchange(code).status == 500
    assert counts(published(capsys)) == {"request.failed": 1}


def test_an_administrators_change_is_counted(api, capsys):
    capsys.readouterr()
    created = api.post("/api/v1/oauth-clients", {
        "name": "Counted", "client_type": "public", "redirect_uris": ["https://a.example/cb"],
        "access_token_expiry": 3_600, "refresh_token_expiry": 259_200, "pkce_required": True,
    })
    assert created.status == 201, created.body
    assert counts(published(capsys)) == {"client.created": 1}


def test_a_request_without_an_outcome_publishes_nothing(api, capsys):
    capsys.readouterr()
    assert api.anonymous().get("/.well-known/oauth-authorization-server").status == 200
    assert published(capsys) == []
