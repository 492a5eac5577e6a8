import pytest

from oauth_server.redirect_uris import is_loopback, problem


@pytest.mark.parametrize("uri", [
    "https://app.example.com/callback",
    "https://app.example.com/callback?tenant=a",
    "https://vscode.dev/redirect",
    "http://localhost/callback",
    "http://localhost:8080/callback",
    "http://127.0.0.1:33418/",
    "http://[::1]:9000/cb",
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "com.example.app:/oauth2redirect",
    "https://" + "a" * 1_980 + ".com/",
])
def test_redirect_uri_accepted(uri):
    assert problem(uri) is None


@pytest.mark.parametrize("uri, reason", [
    ("https://" + "a" * 1_990 + ".com/", "at most 2000"),
    ("/callback", "absolute"),
    ("app.example.com/callback", "absolute"),
    ("https://app.example.com/cb#frag", "fragment"),
    ("https://*.example.com/cb", "wildcard"),
    ("https://app.example.com/*", "wildcard"),
    ("https://user:pw@app.example.com/cb", "user information"),
    ("https://user@app.example.com/cb", "user information"),
    ("http://app.example.com/cb", "http only"),
    ("http://localhost.evil.example/cb", "http only"),
    ("http://127.0.0.1.nip.io/cb", "http only"),
    ("https:///path-only", "host"),
    ("javascript:alert(1)", "javascript"),
    ("JavaScript:alert(1)", "javascript"),
    ("data:text/html,hi", "data"),
    ("file:///etc/passwd", "file"),
    ("vbscript:msgbox", "vbscript"),
    ("blob:https://a.example/x", "blob"),
    ("about:blank", "about"),
    ("https://app.example.com/a b", "spaces"),
    ("https://app.example.com\\@evil.example/", "backslash"),
    ("http://localhost:99999/cb", "not a valid URI"),
    ("myapp:", "destination"),
])
def test_redirect_uri_refused(uri, reason):
    assert reason in (problem(uri) or "")


def test_loopback_detection_ignores_port_but_not_host():
    assert is_loopback("http://127.0.0.1:5000/cb")
    assert is_loopback("http://[::1]/cb")
    assert not is_loopback("https://localhost/cb")
    assert not is_loopback("http://localhost.example/cb")
