"""Settings read from the environment once per process.

Every environment variable the functions read is named here and nowhere else. The template
sets them (Globals) and the local stack sets the same ones, so a typo fails at cold start
with a message naming the variable instead of deep inside a request.
"""

import os
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit


class ConfigurationError(RuntimeError):
    """The function's environment is missing a setting or holds an invalid one."""


@dataclass(frozen=True)
class Settings:
    issuer: str
    clients_table: str
    codes_table: str
    tokens_table: str
    client_secret_prefix: str
    session_key_secret_arn: str
    upstream_issuer: str
    upstream_client_id: str
    upstream_client_secret_arn: str
    admin_group: str = "oauth-admins"
    scopes_supported: tuple[str, ...] = ()  # empty: any scope is accepted
    refresh_reuse_grace_seconds: int = 120
    session_lifetime_seconds: int = 28_800

    @property
    def secure_cookies(self) -> bool:
        # Only the plain-http local stack runs without Secure cookies.
        return self.issuer.startswith("https://")

    @property
    def callback_url(self) -> str:
        return f"{self.issuer}/oauth/v1/callback"

    @property
    def console_url(self) -> str:
        return f"{self.issuer}/app/admin/oauth-client-apps/"


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _integer(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _origin(name: str) -> str:
    value = _require(name)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigurationError(f"{name} must be an absolute http(s) URL, not {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{name} must be an origin without a path, not {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


@cache
def settings() -> Settings:
    """The settings of this process, read and validated on first use."""
    return Settings(
        issuer=_origin("ISSUER"),
        clients_table=_require("CLIENTS_TABLE"),
        codes_table=_require("CODES_TABLE"),
        tokens_table=_require("TOKENS_TABLE"),
        client_secret_prefix=_require("CLIENT_SECRET_PREFIX"),
        session_key_secret_arn=_require("SESSION_KEY_SECRET_ARN"),
        # Kept exactly: ID tokens must name it to the character (Auth0's ends in "/").
        upstream_issuer=_require("UPSTREAM_ISSUER"),
        upstream_client_id=_require("UPSTREAM_CLIENT_ID"),
        upstream_client_secret_arn=_require("UPSTREAM_CLIENT_SECRET_ARN"),
        admin_group=os.environ.get("ADMIN_GROUP", "").strip() or "oauth-admins",
        scopes_supported=tuple(os.environ.get("SCOPES_SUPPORTED", "").split()),
        refresh_reuse_grace_seconds=_integer("REFRESH_REUSE_GRACE_SECONDS", 120, 0, 300),
        session_lifetime_seconds=_integer("SESSION_LIFETIME_SECONDS", 28_800, 300, 86_400),
    )
