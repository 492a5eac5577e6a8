"""Parameters both the authorization and the token endpoint read: scope and resource."""

import re
from urllib.parse import urlsplit, urlunsplit

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
MAX_RESOURCES = 10
MAX_RESOURCE_LENGTH = 2_000


class InvalidParameter(ValueError):
    """A scope or resource value that cannot be accepted; the message names the problem."""


def split_scope(value: str | None) -> list[str]:
    """Scopes in request order: split on any run of spaces, empty and repeated ones dropped."""
    scopes: list[str] = []
    for scope in (value or "").split(" "):
        if scope and scope not in scopes:
            if not _SCOPE_TOKEN.match(scope):
                raise InvalidParameter(f"scope {scope[:40]!r} has characters a scope cannot")
            scopes.append(scope)
    return scopes


def check_scopes(scopes: list[str], supported: tuple[str, ...]) -> None:
    """With a configured list, only those scopes exist; without one, any scope does."""
    unknown = [s for s in scopes if supported and s not in supported]
    if unknown:
        raise InvalidParameter(f"unknown scope {unknown[0][:40]!r}")


def normalise_resource(value: str) -> str:
    """A resource indicator (RFC 8707 §2): an absolute URI without a fragment.

    A bare origin with or without its trailing "/" is one resource: `https://a/` is `https://a`.
    """
    if len(value) > MAX_RESOURCE_LENGTH:
        raise InvalidParameter("a resource is longer than 2000 characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidParameter(f"resource {value[:60]!r} is not a URI") from None
    if not parts.scheme or not (parts.netloc or parts.path):
        raise InvalidParameter(f"resource {value[:60]!r} is not an absolute URI")
    if "#" in value:
        raise InvalidParameter(f"resource {value[:60]!r} has a fragment")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidParameter(f"resource {value[:60]!r} has spaces or control characters")
    if parts.path == "/" and not parts.query:
        parts = parts._replace(path="")
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))


def resources(values: list[str]) -> list[str]:
    """Every `resource` parameter, normalised, repeats dropped, in request order."""
    if len(values) > MAX_RESOURCES:
        raise InvalidParameter(f"at most {MAX_RESOURCES} resource parameters")
    normalised: list[str] = []
    for value in values:
        resource = normalise_resource(value)
        if resource not in normalised:
            normalised.append(resource)
    return normalised
