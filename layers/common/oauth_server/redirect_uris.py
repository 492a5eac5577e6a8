"""Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1)."""

import re
from urllib.parse import urlsplit

MAX_LENGTH = 2_000
MAX_COUNT = 20

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

# Schemes that run code or read local data in the browser: never a redirect target.
FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "blob", "about"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
# Control characters, spaces and backslashes are read differently by different URL parsers.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def problem(uri: str) -> str | None:
    """Why `uri` cannot be registered as a redirect URI, or None when it can."""
    if len(uri) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if _UNSAFE.search(uri):
        return "must not contain spaces, control characters or backslashes"
    if "*" in uri:
        return "must not contain a wildcard: register each URI in full"
    if "#" in uri:
        return "must not contain a fragment"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError:
        return "is not a valid URI"
    scheme = parts.scheme.lower()
    if not scheme or not _SCHEME.match(scheme):
        return "must be an absolute URI with a scheme"
    if scheme in FORBIDDEN_SCHEMES:
        return f"must not use the {scheme}: scheme"
    if "@" in parts.netloc:
        return "must not contain user information"
    if scheme in ("https", "http"):
        return _web_problem(scheme, parts.hostname, parts.netloc)
    if not (parts.netloc or parts.path.strip("/")):
        return "must name a destination after the scheme"
    return None  # a private-use scheme of a native app (RFC 8252 §7.1)


def _web_problem(scheme: str, hostname: str | None, netloc: str) -> str | None:
    if not hostname:
        return "must name a host"
    if scheme == "http" and _host(netloc) not in LOOPBACK_HOSTS:
        return "may use http only for localhost, 127.0.0.1 or [::1]; use https"
    return None


def _host(netloc: str) -> str:
    """The host as written, brackets kept for IPv6 and the port removed."""
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1].lower()
    return netloc.rsplit(":", 1)[0].lower()


def is_loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme.lower() == "http" and _host(parts.netloc) in LOOPBACK_HOSTS


# RFC 8252 §7.3: a native app listens on whatever loopback port is free at the time.
_LOOPBACK_NETLOC = re.compile(r"^(localhost|127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?$", re.I)


def is_registered(presented: str, registered: list[str]) -> bool:
    """Whether `presented` may receive the response (RFC 9700 §4.1.3, RFC 8252 §7.3).

    Exact string comparison, except that an http loopback URI matches a registered one on
    any port: everything else (host, path, query) must still be equal.
    """
    if presented in registered:
        return True
    loopback = _loopback_without_port(presented)
    return loopback is not None and any(
        _loopback_without_port(uri) == loopback for uri in registered
    )


def _loopback_without_port(uri: str) -> tuple[str, str, str] | None:
    """Host, path and query of an http loopback URI; None for any other URI."""
    if _UNSAFE.search(uri) or "#" in uri:
        return None
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    match = _LOOPBACK_NETLOC.match(parts.netloc)
    if parts.scheme.lower() != "http" or not match:
        return None
    if match.group(2) and not 0 < int(match.group(2)) <= 65_535:
        return None
    return match.group(1).lower(), parts.path, parts.query
