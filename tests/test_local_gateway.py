"""The local stack reproduces API Gateway (HTTP API, payload 2.0) where handlers feel it."""

import base64
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from moto import mock_aws

from local.cfn_yaml import load_template
from local.events import HttpRequest, build_event
from local.functions import Function
from local.gateway import Gateway, GatewayServer, RouteTable
from local.intrinsics import TemplateError
from local.parameters import SettingError
from local.resources import (UPSTREAM_CLIENT_SECRET, create_secrets, create_tables,
                             function_environment, local_resolver)
from local.routes import Match, Route
from local.stack import TEMPLATE, free_port, spawn, start
from tests.processes import children, is_running


def _table(*keys: str) -> RouteTable:
    return RouteTable(Route(key, key) for key in keys)


def _echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}


def _gateway(entry, *keys: str, wait_s: float = 30) -> Gateway:
    routes = RouteTable(Route(key, "Fake") for key in keys or ("ANY /x/{proxy+}",))
    return Gateway(routes, {"Fake": Function("Fake", entry=entry)}, quiet=True, wait_s=wait_s)


def _event(target: str, headers=(), body=b"", method="GET") -> dict:
    request = HttpRequest(method, target, list(headers), body)
    return build_event(request, Match("ANY /{proxy+}", "Fake", {}))


# ---------------------------------------------------------------- routes

def test_route_exact_path_matches_only_without_trailing_slash():
    routes = _table("GET /x")
    assert routes.match("GET", "/x").route_key == "GET /x"
    assert routes.match("GET", "/x/") is None


def test_route_greedy_sibling_serves_trailing_slash_but_not_bare_path():
    routes = _table("GET /x/{proxy+}")
    assert routes.match("GET", "/x/").path_parameters == {"proxy": ""}
    assert routes.match("GET", "/x/a/b").path_parameters == {"proxy": "a/b"}
    assert routes.match("GET", "/x") is None


def test_route_variable_matches_one_nonempty_segment():
    routes = _table("GET /c/{client_id}")
    assert routes.match("GET", "/c/abc").path_parameters == {"client_id": "abc"}
    assert routes.match("GET", "/c/a/b") is None
    assert routes.match("GET", "/c/") is None


def test_route_most_specific_wins():
    # Least specific first, so that the order of definition cannot be what decides.
    routes = _table("$default", "ANY /a/b", "GET /{proxy+}", "GET /a/{proxy+}", "GET /a/{id}",
                    "GET /a/b")
    assert routes.match("GET", "/a/b").route_key == "GET /a/b"
    assert routes.match("POST", "/a/b").route_key == "ANY /a/b"
    assert routes.match("GET", "/a/c").route_key == "GET /a/{id}"
    assert routes.match("GET", "/a/c/d").route_key == "GET /a/{proxy+}"
    assert routes.match("GET", "/z").route_key == "GET /{proxy+}"
    assert routes.match("DELETE", "/z").route_key == "$default"


def test_route_longer_greedy_prefix_wins():
    routes = _table("GET /a/{proxy+}", "GET /a/{id}/{proxy+}")
    assert routes.match("GET", "/a/b/c").route_key == "GET /a/{id}/{proxy+}"


def test_route_unknown_method_or_path_matches_nothing():
    routes = _table("GET /x", "ANY /api/{proxy+}")
    assert routes.match("POST", "/x") is None
    assert routes.match("GET", "/api") is None
    assert routes.match("GET", "/") is None


def test_route_key_ending_in_slash_is_refused():
    with pytest.raises(TemplateError, match="ending in '/'"):
        _table("GET /x/")


def test_routes_from_template_follow_integration_to_function():
    template = {"Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
        "Api": {"Type": "AWS::ApiGatewayV2::Api"},
        "Integration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY",
            "IntegrationUri": {"Fn::GetAtt": ["Fn", "Arn"]}, "PayloadFormatVersion": "2.0"}},
        "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "Api"}, "RouteKey": "GET /x",
            "Target": {"Fn::Sub": "integrations/${Integration}"}}},
    }}
    assert RouteTable.from_template(template).routes == [Route("GET /x", "Fn")]


def test_routes_from_real_template_serve_both_slash_forms():
    routes = RouteTable.from_template(load_template(TEMPLATE))
    assert routes.match("GET", "/oauth/v1/login").function == "AuthorizeFunction"
    assert routes.match("GET", "/oauth/v1/login/").function == "AuthorizeFunction"


# ---------------------------------------------------------------- events

def test_event_cookies_leave_headers_for_their_array():
    event = _event("/x", [("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_event_headers_lower_cased_and_repeats_comma_joined():
    event = _event("/x", [("X-Thing", "one"), ("x-thing", "two"), ("Accept", "text/html")])
    assert event["headers"]["x-thing"] == "one,two"
    assert event["headers"]["accept"] == "text/html"
    assert "cookies" not in event


def test_event_query_decoded_and_joined_raw_untouched():
    event = _event("/x?state=a%2Cb&state=c&scope=a%20b&plus=a+b&flag")
    assert event["rawQueryString"] == "state=a%2Cb&state=c&scope=a%20b&plus=a+b&flag"
    assert event["queryStringParameters"] == {
        "state": "a,b,c", "scope": "a b", "plus": "a+b", "flag": ""}


def test_event_without_query_or_body_leaves_keys_out():
    event = _event("/x")
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event and "body" not in event
    assert "pathParameters" not in event
    assert event["isBase64Encoded"] is False


def test_event_raw_path_is_decoded():
    event = _event("/x/a%20b%2Fc?q=%20")
    assert event["rawPath"] == "/x/a b/c"
    assert event["requestContext"]["http"]["path"] == "/x/a b/c"


def test_event_form_body_is_base64():
    form = b"grant_type=authorization_code&code=abc"
    event = _event("/x", [("Content-Type", "application/x-www-form-urlencoded")], form, "POST")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == form


def test_event_json_body_is_text():
    body = b'{"name": "caf\xc3\xa9"}'
    event = _event("/x", [("Content-Type", "application/json; charset=utf-8")], body, "POST")
    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"name": "café"}'


def test_event_request_context_shape():
    request = HttpRequest("GET", "/x", [("Host", "127.0.0.1:8000"), ("User-Agent", "t/1")])
    event = build_event(request, Match("GET /x", "Fake", {}), request_id="id1", now=0)
    assert event["version"] == "2.0" and event["routeKey"] == "GET /x"
    assert event["requestContext"] == {
        "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "http": {"method": "GET", "path": "/x", "protocol": "HTTP/1.1",
                 "sourceIp": "127.0.0.1", "userAgent": "t/1"},
        "requestId": "id1", "routeKey": "GET /x", "stage": "$default",
        "time": "01/Jan/1970:00:00:00 +0000", "timeEpoch": 0}


# ---------------------------------------------------------------- responses

def test_response_no_route_is_bare_404():
    response = _gateway(_echo, "GET /x").handle(HttpRequest("GET", "/y"))
    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})


def test_response_each_cookie_is_a_set_cookie_header():
    result = {"statusCode": 302, "headers": {"Location": "/next"}, "cookies": ["a=1", "b=2"]}
    response = _gateway(lambda event, context: result).handle(HttpRequest("GET", "/x/"))
    assert response.status == 302
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("Location", "/next") in response.headers


def test_response_without_status_code_is_json_body_with_200():
    result = {"body": "ignored as such", "ok": True}
    response = _gateway(lambda event, context: result).handle(HttpRequest("GET", "/x/"))
    assert response.status == 200
    assert json.loads(response.body) == result


def test_response_base64_body_is_decoded():
    result = {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(),
              "isBase64Encoded": True}
    response = _gateway(lambda event, context: result).handle(HttpRequest("GET", "/x/"))
    assert response.body == b"\x00\x01"


def test_response_handler_exception_is_bare_500(capsys):
    def broken(event, context):
        raise RuntimeError("boom")

    response = _gateway(broken).handle(HttpRequest("GET", "/x/"))
    assert (response.status, json.loads(response.body)) == (
        500, {"message": "Internal Server Error"})
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_response_slow_handler_is_503():
    def slow(event, context):
        time.sleep(0.5)

    response = _gateway(slow, wait_s=0.05).handle(HttpRequest("GET", "/x/"))
    assert (response.status, json.loads(response.body)) == (
        503, {"message": "Service Unavailable"})


def test_response_oversized_headers_are_413():
    request = HttpRequest("GET", "/x/", [("Cookie", "a=" + "b" * 10_240)])
    response = _gateway(_echo).handle(request)
    assert (response.status, json.loads(response.body)) == (
        413, {"message": "Request Entity Too Large"})


def test_server_source_ip_is_socket_peer_and_cookies_stay_separate():
    def answer(event, context):
        return {"statusCode": 200, "cookies": ["a=1", "b=2"], "body": json.dumps(event)}

    server = GatewayServer(_gateway(answer), port=0)
    server.start()
    try:
        response = requests.get(f"{server.url}/x/y", headers={"X-Forwarded-For": "6.6.6.6"},
                                timeout=5)
    finally:
        server.stop()
    event = response.json()
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-for"] == "6.6.6.6, 127.0.0.1"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_server_answers_every_one_of_many_simultaneous_clients():
    def busy(event, context):
        sum(range(200_000))  # holds the interpreter, as a busy stack does
        return {"statusCode": 200}

    server = GatewayServer(_gateway(busy), port=0)
    server.start()
    start = threading.Barrier(40)

    def post(_):
        start.wait()
        try:
            return requests.post(f"{server.url}/x/", data={"a": "b"}, timeout=30).status_code
        except requests.ConnectionError as error:
            return repr(error)

    try:
        with ThreadPoolExecutor(40) as executor:
            outcomes = list(executor.map(post, range(40)))
    finally:
        server.stop()
    assert outcomes == [200] * 40


# ---------------------------------------------------------------- settings and resources

SETTINGS_TEMPLATE = {
    "Parameters": {"Grace": {"Type": "Number", "Default": 120, "MinValue": 0, "MaxValue": 300},
                   "Level": {"Type": "String", "Default": "INFO",
                             "AllowedValues": ["DEBUG", "INFO"]}},
    "Globals": {"Function": {"Environment": {"Variables": {
        "GRACE": {"Ref": "Grace"}, "LEVEL": {"Ref": "Level"}, "ISSUER": "from-template"}}}},
    "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {}}},
}


@pytest.mark.parametrize("settings", [{"GRACE": "301"}, {"Grace": "-1"}, {"GRACE": "soon"},
                                      {"LEVEL": "TRACE"}])
def test_setting_outside_parameter_constraints_is_refused(settings):
    with pytest.raises(SettingError):
        local_resolver(SETTINGS_TEMPLATE, settings)


def test_setting_reaches_function_environment_as_the_parameter():
    resolver = local_resolver(SETTINGS_TEMPLATE, {"GRACE": "30"})
    environment = function_environment(SETTINGS_TEMPLATE, resolver, {"ISSUER": "http://x"})
    assert environment == {"GRACE": "30", "LEVEL": "INFO", "ISSUER": "http://x"}


def test_setting_out_of_range_refused_by_real_template():
    with pytest.raises(SettingError, match="RefreshReuseGraceSeconds"):
        local_resolver(load_template(TEMPLATE), {"REFRESH_REUSE_GRACE_SECONDS": "301"})


def test_unresolvable_variable_fails_at_start():
    template = {"Globals": {"Function": {"Environment": {"Variables": {
        "X": {"Fn::GetAtt": ["Missing", "Arn"]}}}}},
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function"}}}
    with pytest.raises(TemplateError, match="GetAtt Missing.Arn"):
        function_environment(template, local_resolver(template), {})


@mock_aws
def test_tables_and_secrets_from_real_template():
    template = load_template(TEMPLATE)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    tables = create_tables(dynamodb, template)
    arns = create_secrets(secrets, template)

    for name in tables.values():
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    clients = dynamodb.describe_table(TableName=tables["ClientsTable"])["Table"]
    assert [i["IndexName"] for i in clients["GlobalSecondaryIndexes"]] == ["by_created"]
    session_key = secrets.get_secret_value(SecretId=arns["SessionKeySecret"])["SecretString"]
    assert len(session_key) == 64 and session_key.isalnum()
    upstream = secrets.get_secret_value(SecretId=arns["UpstreamClientSecretValue"])
    assert upstream["SecretString"] == UPSTREAM_CLIENT_SECRET


@pytest.mark.integration
def test_stack_starts_from_real_template_and_stops_cleanly():
    before = dict(os.environ)
    provider_port = free_port()
    with start(port=0, provider_port=provider_port, quiet=True,
               settings={"REFRESH_REUSE_GRACE_SECONDS": "30"}) as stack:
        dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint_url)
        for name in stack.tables.values():
            ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert stack.environment["REFRESH_REUSE_GRACE_SECONDS"] == "30"
        assert stack.environment["ISSUER"] == stack.issuer
        missing = requests.get(f"{stack.issuer}/no/such/route", timeout=5)
        assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})
        metadata = requests.get(f"{stack.provider_issuer}/.well-known/openid-configuration",
                                timeout=5)
        assert metadata.json()["issuer"] == stack.provider_issuer
    assert dict(os.environ) == before
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{provider_port}/", timeout=2)


@pytest.mark.integration
def test_stack_starts_again_in_the_same_process_with_empty_state():
    for _ in range(2):
        with start(port=0, provider_port=free_port(), quiet=True, settings={}) as stack:
            dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint_url)
            assert dynamodb.scan(TableName=stack.tables["ClientsTable"])["Items"] == []
            dynamodb.put_item(TableName=stack.tables["ClientsTable"], Item={"pk": {"S": "x"}})


@pytest.mark.integration
def test_child_stack_stops_with_ctrl_c_and_leaves_nothing_running():
    child = spawn(settings={"REFRESH_REUSE_GRACE_SECONDS": "30"})
    try:
        # The real authorize function answers: it sends the person to the provider.
        login = requests.get(f"{child.issuer}/oauth/v1/login/", allow_redirects=False,
                             timeout=5)
        assert login.headers["Location"].startswith(f"{child.provider_issuer}/")
        # Simultaneous requests each get an execution environment, a process of its own.
        metadata = f"{child.issuer}/.well-known/oauth-authorization-server"
        with ThreadPoolExecutor(4) as executor:
            answers = list(executor.map(lambda _: requests.get(metadata, timeout=30), range(4)))
        assert [answer.status_code for answer in answers] == [200] * 4
        started = children(child.pid)
        assert sum("worker.py TokenFunction" in args for args in started.values()) >= 2
    finally:
        child.stop()
    assert child.returncode == 0
    assert [args for pid, args in started.items() if is_running(pid)] == []
    for url in (child.issuer, child.provider_issuer, child.endpoint_url):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
