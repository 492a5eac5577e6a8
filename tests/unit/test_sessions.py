import base64
import json
import time

from oauth_server import sessions
from oauth_server.sessions import Session

KEY = b"k" * 32


def make_session(**overrides) -> Session:
    values = dict(sub="alice", name="Alice", email="alice@example.com", is_admin=True,
                  csrf_token="csrf-value", expires_at=int(time.time()) + 600)
    return Session(**{**values, **overrides})


def test_session_round_trip():
    session = make_session()
    assert sessions.decode(sessions.encode(session, KEY), KEY) == session


def test_session_signed_with_another_key_is_refused():
    assert sessions.decode(sessions.encode(make_session(), b"x" * 32), KEY) is None


def test_tampered_payload_is_refused():
    version, payload, signature = sessions.encode(make_session(is_admin=False), KEY).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["is_admin"] = True
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert sessions.decode(f"{version}.{forged}.{signature}", KEY) is None


def test_expired_session_is_refused():
    value = sessions.encode(make_session(expires_at=int(time.time()) + 60), KEY)
    assert sessions.decode(value, KEY, now=time.time() + 61) is None
    assert sessions.decode(value, KEY, now=time.time()) is not None


def test_malformed_values_are_no_session():
    for value in ["", "v1", "v1..", "v2.a.b", "v1.!!!.sig", "garbage" * 50]:
        assert sessions.decode(value, KEY) is None


def test_csrf_token_compared_exactly():
    session = make_session(csrf_token="abc")
    assert session.csrf_matches("abc")
    assert not session.csrf_matches("abd")
    assert not session.csrf_matches("")
    assert not session.csrf_matches(None)


def test_display_name_falls_back_through_claims():
    assert sessions.display_name({"sub": "s1", "email": "e@x"}) == "e@x"
    assert sessions.display_name({"sub": "s1", "name": "  "}) == "s1"
