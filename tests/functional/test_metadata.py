"""Authorization server metadata (RFC 8414) and the rest of /.well-known/ through the gateway."""

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from oauth_server.config import settings

METADATA = "/.well-known/oauth-authorization-server"


def nulls(value, where="$") -> list[str]:
    """Where in a JSON document a null sits."""
    if value is None:
        return [where]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in nulls(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in nulls(v, f"{where}[{i}]")]
    return []


@pytest.mark.parametrize("path", [METADATA, METADATA + "/"])
def test_metadata_lists_what_spec_promises(front, path):
    reply = front.get(path)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    issuer = settings().issuer
    assert reply.json == {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/v1/authorize",
        "token_endpoint": f"{issuer}/oauth/v1/token",
        "revocation_endpoint": f"{issuer}/oauth/v1/revoke",
        "introspection_endpoint": f"{issuer}/oauth/v1/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": True,
        "scopes_supported": [],
    }


def test_metadata_has_no_null_and_passes_authlibs_validation(front):
    document = front.get(METADATA).json
    assert nulls(document) == []
    AuthorizationServerMetadata(document).validate()


def test_endpoint_urls_have_no_trailing_slash(front):
    document = front.get(METADATA).json
    urls = [v for k, v in document.items() if k == "issuer" or k.endswith("_endpoint")]
    assert len(urls) == 5
    assert all(not url.endswith("/") for url in urls)


def test_every_advertised_endpoint_is_routed(front):
    """Each URL answers something other than API Gateway's bare 404."""
    issuer = settings().issuer
    for key, url in front.get(METADATA).json.items():
        if key.endswith("_endpoint"):
            method = "GET" if key == "authorization_endpoint" else "POST"
            reply = front.request(method, url.removeprefix(issuer))
            assert reply.body != '{"message":"Not Found"}', key


def test_scopes_supported_follows_the_setting(front, monkeypatch):
    monkeypatch.setenv("SCOPES_SUPPORTED", "mcp:read mcp:write")
    settings.cache_clear()
    assert front.get(METADATA).json["scopes_supported"] == ["mcp:read", "mcp:write"]


def test_metadata_may_be_cached_briefly_and_read_from_any_origin(front):
    reply = front.get(METADATA, headers={"Origin": "https://app.example.com"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Cache-Control"].startswith("public, max-age=")
    assert int(reply.headers["Cache-Control"].rsplit("=", 1)[1]) <= 3_600


def test_metadata_preflight(front):
    reply = front.request("OPTIONS", METADATA, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "mcp-protocol-version"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert "MCP-Protocol-Version" in reply.headers["Access-Control-Allow-Headers"]


def test_metadata_refuses_other_methods_with_405(front):
    reply = front.post(METADATA, {})
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, OPTIONS"


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration",
                                  "/.well-known/oauth-protected-resource",
                                  METADATA + "/extra"])
def test_other_well_known_paths_are_json_404(front, path):
    reply = front.get(path)
    assert reply.status == 404
    assert reply.json["error"] == "not_found"
    # Browser-based clients probe these while discovering; let them read the 404.
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_metadata_needs_no_aws_call(front, aws_calls):
    assert front.get(METADATA).status == 200
    assert aws_calls == []
