"""The tables, secrets and function environment of template.yaml, made locally.

Everything is derived from the template's own resource definitions, so the local stack and the
unit tests (which build their moto tables with create_tables) cannot drift from what deploys.
"""

import json
from collections.abc import Mapping

from local.intrinsics import NO_VALUE, Resolver, TemplateError
from local.parameters import parameter_values

STACK_NAME = "oauth-local"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
API_ID = "local"
# The mock provider accepts any client secret; this one only has to be present.
UPSTREAM_CLIENT_SECRET = "local-upstream-client-secret"
UPSTREAM_SECRET_VARIABLE = "UPSTREAM_CLIENT_SECRET_ARN"

TABLE = "AWS::DynamoDB::Table"
SECRET = "AWS::SecretsManager::Secret"
FUNCTION = "AWS::Serverless::Function"


def local_resolver(template: Mapping, environ: Mapping[str, str] | None = None,
                   prefix: str = STACK_NAME) -> Resolver:
    """A resolver knowing the parameters, pseudo parameters and every name fixed in advance.

    `environ` holds the developer's settings (see local.parameters). Secrets get their ARN only
    once created (moto adds a random suffix): create_secrets adds them.
    """
    refs = {**parameter_values(template, environ or {}), **_pseudo_parameters(prefix)}
    attributes = {}
    resolver = Resolver(template, refs, attributes)
    for logical_id, resource in _resources(template):
        kind, name = resource.get("Type"), _physical_name(resolver, logical_id, resource)
        if kind == TABLE:
            refs[logical_id] = name
            attributes[f"{logical_id}.Arn"] = _arn("dynamodb", f"table/{name}")
        elif kind in (FUNCTION, "AWS::Lambda::Function"):
            refs[logical_id] = name
            attributes[f"{logical_id}.Arn"] = _arn("lambda", f"function:{name}")
        elif kind == "AWS::ApiGatewayV2::Api":
            refs[logical_id] = API_ID
        elif kind == "AWS::ApiGatewayV2::Integration":
            refs[logical_id] = logical_id  # routes name their integration through this
    return resolver


def _physical_name(resolver: Resolver, logical_id: str, resource: Mapping) -> str:
    """The name the template gives (TableName, Name...), else CloudFormation's way: prefixed."""
    properties = resource.get("Properties", {})
    for key in _NAME_PROPERTIES.get(resource.get("Type"), ()):
        if key in properties:
            return str(resolver.resolve(properties[key], f"Resources.{logical_id}.{key}"))
    return f"{resolver.refs['AWS::StackName']}-{logical_id}"


_NAME_PROPERTIES = {
    TABLE: ("TableName",),
    SECRET: ("Name",),
    FUNCTION: ("FunctionName",),
    "AWS::Lambda::Function": ("FunctionName",),
}


def _pseudo_parameters(prefix: str) -> dict[str, str]:
    return {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": prefix,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": _arn("cloudformation", f"stack/{prefix}/local"),
    }


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _resources(template: Mapping, kind: str | None = None):
    for logical_id, resource in template.get("Resources", {}).items():
        if kind is None or resource.get("Type") == kind:
            yield logical_id, resource


def exists(resolver: Resolver, resource: Mapping) -> bool:
    """False for a resource whose Condition is false: CloudFormation would not create it."""
    condition = resource.get("Condition")
    return condition is None or resolver.condition(condition)


def create_tables(dynamodb, template: Mapping, resolver: Resolver | None = None) -> dict:
    """Creates the template's tables (keys, indexes, billing, TTL); returns id -> name."""
    resolver = resolver or local_resolver(template)
    names = {}
    for logical_id, resource in _resources(template, TABLE):
        if not exists(resolver, resource):
            continue
        where = f"Resources.{logical_id}.Properties"
        properties = resolver.resolve(resource.get("Properties", {}), where)
        names[logical_id] = resolver.ref(logical_id, where)
        dynamodb.create_table(TableName=names[logical_id], **_table_request(properties))
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and _is_true(ttl.get("Enabled")):
            dynamodb.update_time_to_live(
                TableName=names[logical_id],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True})
    return names


def _table_request(properties: Mapping) -> dict:
    """CreateTable arguments from AWS::DynamoDB::Table properties (the same names, mostly).

    Encryption, point-in-time recovery and tags change nothing a handler can see: left out.
    """
    billing = properties.get("BillingMode", "PROVISIONED")
    request = {
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": billing,
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(key):
            request[key] = [_index(index, billing) for index in properties[key]]
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = _throughput(properties.get("ProvisionedThroughput"))
    return request


def _index(index: Mapping, billing: str) -> dict:
    kept = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
    if billing == "PROVISIONED" and "ProvisionedThroughput" in index:
        kept["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return kept


def _throughput(throughput: Mapping | None) -> dict:
    throughput = throughput or {}
    return {key: int(throughput.get(key, 5))
            for key in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _is_true(value) -> bool:
    return value is True or str(value).lower() == "true"


def create_secrets(secretsmanager, template: Mapping, resolver: Resolver | None = None,
                   fixed: Mapping[str, str] | None = None) -> dict:
    """Creates the template's secrets; returns id -> ARN and teaches `resolver` each ARN.

    `fixed` gives a secret's value by logical id. By default, the secret the functions read
    the upstream client secret from gets UPSTREAM_CLIENT_SECRET: locally the upstream is the
    mock provider, whatever the template would take it from (a parameter, Cognito).
    """
    resolver = resolver or local_resolver(template)
    if fixed is None:
        fixed = {upstream_secret_id(template): UPSTREAM_CLIENT_SECRET}
    arns = {}
    for logical_id, resource in _resources(template, SECRET):
        if not exists(resolver, resource):
            continue
        value = fixed.get(logical_id)
        if value is None:
            value = _secret_value(secretsmanager, resolver, logical_id, resource)
        arns[logical_id] = _create_secret(secretsmanager, resolver, logical_id, value)
        resolver.refs[logical_id] = arns[logical_id]  # Ref of a secret is its ARN
        resolver.attributes[f"{logical_id}.Id"] = arns[logical_id]
    return arns


def upstream_secret_id(template: Mapping) -> str | None:
    """The secret that UPSTREAM_CLIENT_SECRET_ARN names with `!Ref`, if any."""
    variables = template.get("Globals", {}).get("Function", {})
    variables = variables.get("Environment", {}).get("Variables", {})
    value = variables.get(UPSTREAM_SECRET_VARIABLE)
    return value.get("Ref") if isinstance(value, dict) else None


def _secret_value(secretsmanager, resolver: Resolver, logical_id: str, resource: Mapping):
    where = f"Resources.{logical_id}.Properties"
    properties = resource.get("Properties", {})
    if "GenerateSecretString" in properties:
        spec = resolver.resolve(properties["GenerateSecretString"], f"{where}.Generate")
        return _generated(secretsmanager, spec)
    if "SecretString" in properties:
        return str(resolver.resolve(properties["SecretString"], f"{where}.SecretString"))
    return None


def _generated(secretsmanager, spec: Mapping) -> str:
    """What GenerateSecretString would store, generated by (moto's) GetRandomPassword."""
    options = {key: spec[key] for key in _PASSWORD_OPTIONS if key in spec}
    options["PasswordLength"] = int(spec.get("PasswordLength", 32))
    password = secretsmanager.get_random_password(**options)["RandomPassword"]
    if "SecretStringTemplate" not in spec:
        return password
    document = json.loads(spec["SecretStringTemplate"])
    document[spec["GenerateStringKey"]] = password
    return json.dumps(document)


_PASSWORD_OPTIONS = ("ExcludeCharacters", "ExcludeNumbers", "ExcludePunctuation",
                     "ExcludeUppercase", "ExcludeLowercase", "IncludeSpace",
                     "RequireEachIncludedType")


def _create_secret(secretsmanager, resolver: Resolver, logical_id: str, value) -> str:
    resource = resolver.template["Resources"][logical_id]
    name = _physical_name(resolver, logical_id, resource)
    request = {"Name": name} if value is None else {"Name": name, "SecretString": value}
    return secretsmanager.create_secret(**request)["ARN"]


def function_environment(template: Mapping, resolver: Resolver,
                         fixed: Mapping[str, str]) -> dict[str, str]:
    """The variables every function gets, resolved; `fixed` wins over the template's value.

    The local stack runs all handlers in one process, so a variable two functions set to
    different values cannot be reproduced: that fails here rather than at request time.
    """
    merged, owner = {}, {}
    for logical_id, variables in _function_variables(template, resolver):
        for name, value in variables.items():
            if name in fixed:
                value = fixed[name]
            else:
                value = resolver.resolve(value, f"{logical_id}.Environment.{name}")
            if value is NO_VALUE:
                continue
            value = _variable_text(value, f"{logical_id}.Environment.{name}")
            if name in merged and merged[name] != value:
                raise TemplateError(f"{name} differs between {owner[name]} and {logical_id}; "
                                    "the local stack runs every function in one process")
            merged[name], owner[name] = value, logical_id
    return merged


def _function_variables(template: Mapping, resolver: Resolver):
    globals_ = template.get("Globals", {}).get("Function", {})
    shared = globals_.get("Environment", {}).get("Variables", {})
    for logical_id, resource in _resources(template, FUNCTION):
        if exists(resolver, resource):
            own = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
            yield logical_id, {**shared, **own}


def _variable_text(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"{where}: an environment variable must be text, not {value!r}")
    return str(value)
