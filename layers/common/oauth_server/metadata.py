"""Authorization server metadata (RFC 8414 §2), as SPEC.md §2 lists it.

Every value is a string, a boolean or a list: the document never holds a JSON null, which
some clients take for "supported, with no value".
"""

from .config import Settings

AUTHORIZE_PATH = "/oauth/v1/authorize"
TOKEN_PATH = "/oauth/v1/token"
REVOKE_PATH = "/oauth/v1/revoke"
INTROSPECT_PATH = "/oauth/v1/introspect"
PATH = "/.well-known/oauth-authorization-server"

_CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


def authorization_server_metadata(config: Settings) -> dict:
    """The document; endpoint URLs without a trailing slash, the form API Gateway routes."""
    issuer = config.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "revocation_endpoint": issuer + REVOKE_PATH,
        "introspection_endpoint": issuer + INTROSPECT_PATH,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*_CLIENT_AUTH, "none"],
        "revocation_endpoint_auth_methods_supported": [*_CLIENT_AUTH, "none"],
        "introspection_endpoint_auth_methods_supported": list(_CLIENT_AUTH),
        "authorization_response_iss_parameter_supported": True,
        "scopes_supported": list(config.scopes_supported),
    }
