"""What template.yaml must keep true: data safety, routing, least privilege, the contract."""

import re
from pathlib import Path

import pytest

from local.cfn_yaml import load_template, parse_template

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"

FUNCTION = "AWS::Serverless::Function"
TABLE = "AWS::DynamoDB::Table"
ROUTE = "AWS::ApiGatewayV2::Route"

FUNCTIONS = {
    "AuthorizeFunction": ("functions/authorize/", "authorize_handler.lambda_handler"),
    "TokenFunction": ("functions/token/", "token_handler.lambda_handler"),
    "AdminFunction": ("functions/admin/", "admin_handler.lambda_handler"),
}

CONTRACT_ROUTES = {
    "GET /oauth/v1/login": "AuthorizeFunction",
    "GET /oauth/v1/callback": "AuthorizeFunction",
    "GET /oauth/v1/logout": "AuthorizeFunction",
    "POST /oauth/v1/logout": "AuthorizeFunction",
    "ANY /api/v1/{proxy+}": "AdminFunction",
    "GET /app/admin/oauth-client-apps": "AdminFunction",
}

CONTRACT_VARIABLES = {
    "ISSUER", "CLIENTS_TABLE", "CODES_TABLE", "TOKENS_TABLE", "CLIENT_SECRET_PREFIX",
    "SESSION_KEY_SECRET_ARN", "UPSTREAM_ISSUER", "UPSTREAM_CLIENT_ID",
    "UPSTREAM_CLIENT_SECRET_ARN", "ADMIN_GROUP", "REFRESH_REUSE_GRACE_SECONDS",
    "SESSION_LIFETIME_SECONDS", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL",
}

DYNAMODB_WRITES = {
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}
SECRETS_READS = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
PROXY = "/{proxy+}"


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def referenced(value) -> set[str]:
    """Logical ids (and parameters) that a property value refers to."""
    if isinstance(value, list):
        return set().union(*map(referenced, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if "Ref" in value:
        return {value["Ref"]}
    if "Fn::GetAtt" in value:
        return {value["Fn::GetAtt"][0]}
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else sub
        names = {m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text)}
        return (names - set(variables)) | referenced(list(variables.values()))
    return referenced(list(value.values()))


def integration_function(resources: dict, route: dict) -> str:
    """The function a route reaches, through its integration."""
    target = route["Properties"]["Target"]["Fn::Sub"]
    integration = resources[re.fullmatch(r"integrations/\$\{(\w+)\}", target)[1]]
    (function,) = referenced(integration["Properties"]["IntegrationUri"])
    return function


def routes(resources: dict) -> dict[str, str]:
    """Route key -> function name."""
    return {
        r["Properties"]["RouteKey"]: integration_function(resources, r)
        for r in of_type(resources, ROUTE).values()
    }


def statements(resources: dict, function: str) -> list[dict]:
    policies = resources[function]["Properties"].get("Policies", [])
    return [s for policy in policies for s in policy["Statement"]]


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def actions_on(resources: dict, function: str, resource: str) -> set[str]:
    """Actions a function's policy allows on a resource (a logical id) or on everything."""
    found = set()
    for statement in statements(resources, function):
        targets = listed(statement["Resource"])
        if "*" in targets or resource in referenced(targets):
            found |= set(listed(statement["Action"]))
    return found


def secret_prefix_actions(resources: dict, function: str) -> set[str]:
    found = set()
    for statement in statements(resources, function):
        for target in listed(statement["Resource"]):
            text = target.get("Fn::Sub", "") if isinstance(target, dict) else target
            if "/client-secrets/" in text or text == "*":
                found |= set(listed(statement["Action"]))
    return found


def effective(template: dict, function: str, key: str):
    """A function property as deployed: the function's own value, else the Globals one."""
    own = template["Resources"][function]["Properties"]
    return own.get(key, template["Globals"]["Function"].get(key))


# ---------------------------------------------------------------- the loader


def test_loader_turns_short_tags_into_intrinsics():
    parsed = parse_template(
        "A: !Ref X\nB: !GetAtt T.Arn\nC: !Sub a-${X}\nD: !If [C, 1, 2]\n"
        "E: !GetAtt D.Endpoint.Address\nF: !Join ['', [!Select [0, !Split [',', !Ref L]]]]\n"
    )
    assert parsed["A"] == {"Ref": "X"}
    assert parsed["B"] == {"Fn::GetAtt": ["T", "Arn"]}
    assert parsed["C"] == {"Fn::Sub": "a-${X}"}
    assert parsed["D"] == {"Fn::If": ["C", 1, 2]}
    assert parsed["E"] == {"Fn::GetAtt": ["D", "Endpoint.Address"]}
    split = {"Fn::Split": [",", {"Ref": "L"}]}
    assert parsed["F"] == {"Fn::Join": ["", [{"Fn::Select": [0, split]}]]}


def test_loader_keeps_dates_as_text(template):
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"


# ---------------------------------------------------------------- data


def test_tables_keep_their_data(resources):
    tables = of_type(resources, TABLE)
    assert set(tables) == {"ClientsTable", "CodesTable", "TokensTable"}
    for name, table in tables.items():
        props = table["Properties"]
        assert table.get("DeletionPolicy") == "Retain", name
        assert table.get("UpdateReplacePolicy") == "Retain", name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": "expires_at", "Enabled": True}, name
        assert props["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}], name


def test_clients_table_lists_newest_first_through_by_created(resources):
    (index,) = resources["ClientsTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_created"
    assert index["KeySchema"] == [
        {"AttributeName": "entity", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}


def test_session_key_is_generated_long_and_plain(resources):
    generated = resources["SessionKeySecret"]["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 64
    assert generated["ExcludePunctuation"] is True


def test_upstream_secret_is_the_parameter_or_the_cognito_client_secret(resources):
    value = resources["UpstreamClientSecretValue"]["Properties"]["SecretString"]
    condition, cognito, given = value["Fn::If"]
    assert condition == "CreateCognito"
    assert cognito == {"Fn::GetAtt": ["CognitoAppClient", "ClientSecret"]}
    assert given == {"Ref": "UpstreamClientSecret"}


# ---------------------------------------------------------------- routing


def test_route_paths_never_end_in_a_slash(resources):
    for key in routes(resources):
        path = key.split(" ", 1)[1]
        assert not path.endswith("/"), key


def test_every_path_has_a_proxy_sibling_on_the_same_function(resources):
    table = routes(resources)
    for key, function in table.items():
        if key.endswith(PROXY):
            continue
        assert table.get(key + PROXY) == function, f"{key} lacks {key + PROXY}"


def test_contract_routes_reach_their_functions(resources):
    table = routes(resources)
    for key, function in CONTRACT_ROUTES.items():
        assert table.get(key) == function, key


def test_integrations_are_lambda_proxies_with_payload_v2(resources):
    integrations = of_type(resources, "AWS::ApiGatewayV2::Integration")
    assert len(integrations) == len(FUNCTIONS)
    for name, integration in integrations.items():
        props = integration["Properties"]
        assert props["IntegrationType"] == "AWS_PROXY", name
        assert props["PayloadFormatVersion"] == "2.0", name
        assert props["IntegrationUri"]["Fn::GetAtt"][1] == "Arn", name
        assert referenced(props["ApiId"]) == {"HttpApi"}, name


def test_api_gateway_may_invoke_each_function_of_this_api_only(resources):
    permissions = of_type(resources, "AWS::Lambda::Permission").values()
    invoked = {}
    for permission in permissions:
        props = permission["Properties"]
        assert props["Principal"] == "apigateway.amazonaws.com"
        assert "HttpApi" in referenced(props["SourceArn"])
        (function,) = referenced(props["FunctionName"])
        invoked[function] = props["Action"]
    assert invoked == dict.fromkeys(FUNCTIONS, "lambda:InvokeFunction")


def test_api_leaves_cors_to_the_functions(resources):
    apis = of_type(resources, "AWS::ApiGatewayV2::Api")
    assert list(apis) == ["HttpApi"]
    assert "CorsConfiguration" not in apis["HttpApi"]["Properties"]
    assert not of_type(resources, "AWS::Serverless::HttpApi")


def test_functions_have_no_events_that_would_make_a_cycle(resources):
    # `Events: HttpApi` makes the API reference the functions, which reference the issuer.
    for name in FUNCTIONS:
        assert "Events" not in resources[name]["Properties"], name


def test_stage_throttles_with_burst_and_rate(resources):
    (stage,) = of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    settings = props["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}


# ---------------------------------------------------------------- functions


def test_functions_run_python313_on_arm64_with_the_common_layer(template):
    for name in FUNCTIONS:
        assert effective(template, name, "Runtime") == "python3.13", name
        assert effective(template, name, "Architectures") == ["arm64"], name
        assert effective(template, name, "Layers") == [{"Ref": "CommonLayer"}], name
        assert effective(template, name, "Timeout") < 30, name


def test_functions_use_the_contract_code_layout(resources):
    for name, (code_uri, handler) in FUNCTIONS.items():
        props = resources[name]["Properties"]
        assert (props["CodeUri"], props["Handler"]) == (code_uri, handler), name


def test_common_layer_is_built_for_arm64_python313(resources):
    layer = resources["CommonLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/common/"


def test_globals_give_every_contract_variable(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert CONTRACT_VARIABLES <= set(variables)


def test_issuer_is_an_origin_without_trailing_slash(template):
    issuer = template["Globals"]["Function"]["Environment"]["Variables"]["ISSUER"]
    condition, with_domain, without = issuer["Fn::If"]
    assert condition == "HasDomain"
    assert with_domain == {"Fn::Sub": "https://${DomainName}"}
    assert re.fullmatch(r"https://\$\{HttpApi\}\.execute-api\.[^/]+", without["Fn::Sub"])


def test_client_secret_prefix_matches_the_iam_prefix(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["CLIENT_SECRET_PREFIX"] == {
        "Fn::Sub": "${AWS::StackName}/client-secrets/"}


# ---------------------------------------------------------------- least privilege


def test_policies_are_inline_statements_without_wildcards(resources):
    for name in FUNCTIONS:
        policies = resources[name]["Properties"]["Policies"]
        assert len(policies) == 1 and set(policies[0]) == {"Statement"}, name
        for statement in policies[0]["Statement"]:
            assert statement["Effect"] == "Allow", name
            assert "*" not in listed(statement["Resource"]), name
            assert not any(a.endswith("*") for a in listed(statement["Action"])), name


def test_only_admin_writes_clients(resources):
    for name in FUNCTIONS:
        writes = actions_on(resources, name, "ClientsTable") & DYNAMODB_WRITES
        assert bool(writes) == (name == "AdminFunction"), (name, writes)


def test_token_function_only_reads_clients(resources):
    allowed = actions_on(resources, "TokenFunction", "ClientsTable")
    assert allowed <= {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}


def test_only_admin_writes_secrets(resources):
    for name in FUNCTIONS:
        actions = {
            a for s in statements(resources, name) for a in listed(s["Action"])
            if a.startswith("secretsmanager:")
        }
        writes = actions - SECRETS_READS
        assert bool(writes) == (name == "AdminFunction"), (name, writes)


def test_admin_manages_client_secrets_under_the_prefix_only(resources):
    assert {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
            "secretsmanager:DeleteSecret"} <= secret_prefix_actions(resources, "AdminFunction")
    assert secret_prefix_actions(resources, "TokenFunction") == {
        "secretsmanager:GetSecretValue"}
    assert not secret_prefix_actions(resources, "AuthorizeFunction")


def test_code_redemption_can_run_its_transaction(resources):
    # TransactWriteItems is authorised per item: Put, Update and ConditionCheck.
    needed = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
    for table in ("CodesTable", "TokensTable"):
        assert needed <= actions_on(resources, "TokenFunction", table), table


def test_upstream_client_secret_is_read_by_the_sign_in_function_only(resources):
    readers = {
        name for name in FUNCTIONS
        if "secretsmanager:GetSecretValue"
        in actions_on(resources, name, "UpstreamClientSecretValue")
    }
    assert readers == {"AuthorizeFunction"}


# ---------------------------------------------------------------- parameters and outputs


def test_refresh_grace_parameter_follows_the_spec(template):
    grace = template["Parameters"]["RefreshReuseGraceSeconds"]
    assert (grace["Default"], grace["MinValue"], grace["MaxValue"]) == (120, 0, 300)


def test_upstream_client_secret_parameter_is_not_echoed(template):
    assert template["Parameters"]["UpstreamClientSecret"]["NoEcho"] is True


def test_cognito_client_calls_back_to_the_issuer(resources):
    props = resources["CognitoAppClient"]["Properties"]
    assert props["GenerateSecret"] is True
    assert props["AllowedOAuthFlows"] == ["code"]
    (callback,) = props["CallbackURLs"]
    for branch in callback["Fn::If"][1:]:
        assert branch["Fn::Sub"].endswith("/oauth/v1/callback")


@pytest.mark.parametrize("name, path", [
    ("Issuer", ""),
    ("AuthorizationUrl", "/oauth/v1/authorize"),
    ("TokenUrl", "/oauth/v1/token"),
    ("ConsoleUrl", "/app/admin/oauth-client-apps/"),
])
def test_url_outputs_hang_off_the_issuer(template, name, path):
    value = template["Outputs"][name]["Value"]
    condition, with_domain, without = value["Fn::If"]
    assert condition == "HasDomain"
    assert with_domain["Fn::Sub"] == "https://${DomainName}" + path
    prefix = "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    assert without["Fn::Sub"] == prefix + path


def test_cognito_outputs_exist_when_cognito_is_created(template):
    for name in ("UserPoolId", "CognitoSignInDomain"):
        assert template["Outputs"][name]["Condition"] == "CreateCognito"


# Alarms --------------------------------------------------------------------------------

ALARM = "AWS::CloudWatch::Alarm"
SOURCES = [*Path(TEMPLATE_PATH.parent, "layers/common").rglob("*.py"),
           *Path(TEMPLATE_PATH.parent, "functions").rglob("*.py")]


def watched_metrics(alarm: dict) -> list[dict]:
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return [properties]
    return [query["MetricStat"]["Metric"] for query in properties["Metrics"]
            if "MetricStat" in query]


def test_alarms_exist_only_with_a_topic_and_notify_it(resources):
    alarms = of_type(resources, ALARM)
    assert set(alarms) == {"RefreshReuseAlarm", "CodeReplayAlarm", "AwsUnavailableAlarm",
                           "ServerErrorAlarm"}
    for alarm in alarms.values():
        assert alarm["Condition"] == "HasAlarms"
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_alarms_watch_metrics_the_functions_publish(template, resources):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    published = " ".join(path.read_text() for path in SOURCES)
    ours = [metric for alarm in of_type(resources, ALARM).values()
            for metric in watched_metrics(alarm) if metric["Namespace"] != "AWS/Lambda"]
    assert len(ours) == 4
    for metric in ours:
        assert metric["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
        service = variables["POWERTOOLS_SERVICE_NAME"]
        assert metric["Dimensions"] == [{"Name": "service", "Value": service}]
        # The metric is the log event's name, so the code must log it under that name.
        assert f'"{metric["MetricName"]}"' in published, metric["MetricName"]


def test_server_error_alarm_counts_every_function(resources):
    watched = watched_metrics(resources["ServerErrorAlarm"])
    functions = [m["Dimensions"][0]["Value"] for m in watched if m["Namespace"] == "AWS/Lambda"]
    assert functions == [{"Ref": name} for name in FUNCTIONS]
