"""Back-channel form parameters (RFC 6749 §3.2, RFC 8707 §2)."""

import pytest
from authlib.oauth2.rfc6749.errors import InvalidRequestError

from oauth_server.form_params import FormParams, check_media_type
from oauth_server.oauth_errors import InvalidTargetError


def test_known_parameter_sent_twice_is_invalid_request():
    with pytest.raises(InvalidRequestError, match="code"):
        FormParams([("code", "a"), ("code", "a")])


def test_unknown_parameters_may_repeat_and_are_ignored():
    params = FormParams([("extra", "1"), ("extra", "2"), ("code", "c")])
    assert params.get("code") == "c"


def test_an_empty_value_counts_as_not_sent():
    params = FormParams([("scope", "")])
    assert params.get("scope") is None
    with pytest.raises(InvalidRequestError, match="scope"):
        params.required("scope")


def test_resource_may_repeat_and_is_normalised():
    params = FormParams([("resource", "https://A.example/"), ("resource", "https://b.example/x"),
                         ("resource", "https://a.example")])
    assert params.resources() == ["https://a.example", "https://b.example/x"]


@pytest.mark.parametrize("value", ["relative/path", "https://a.example/#frag", "rel\"ative\\"])
def test_bad_resource_is_invalid_target(value):
    with pytest.raises(InvalidTargetError):
        FormParams([("resource", value)]).resources()


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "Application/X-WWW-Form-Urlencoded; charset=UTF-8"])
def test_form_media_type_is_accepted(content_type):
    check_media_type(content_type)


@pytest.mark.parametrize("content_type", ["", "application/json", "multipart/form-data"])
def test_other_media_types_are_invalid_request(content_type):
    with pytest.raises(InvalidRequestError):
        check_media_type(content_type)
