"""The route table of the template's HTTP API, matched the way API Gateway matches it.

API Gateway picks the most specific route: literal segments before `{name}` segments, exact
routes before greedy `{proxy+}` ones (a longer greedy prefix first), a method before ANY, and
`$default` last. A path ending in "/" is not the route without it: `/x/` matches only through a
greedy sibling `/x/{proxy+}`, and `/x` never matches `/x/{proxy+}`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from local.intrinsics import Resolver, TemplateError
from local.resources import FUNCTION, exists, local_resolver

DEFAULT_ROUTE = "$default"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
_VARIABLE = re.compile(r"\{([A-Za-z0-9_.-]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    key: str  # the RouteKey, e.g. "GET /oauth/v1/login" or "$default"
    function: str  # logical id of the function the route's integration invokes

    @property
    def method(self) -> str:
        return self.key.split(" ", 1)[0] if self.key != DEFAULT_ROUTE else "ANY"

    @property
    def segments(self) -> list[str]:
        return self.key.split(" ", 1)[1][1:].split("/") if self.key != DEFAULT_ROUTE else []

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")


@dataclass(frozen=True)
class Match:
    route_key: str
    function: str
    path_parameters: dict[str, str]


class RouteTable:
    def __init__(self, routes):
        self.routes = list(routes)
        keys = [route.key for route in self.routes]
        for route in self.routes:
            _check_key(route.key)
            if keys.count(route.key) > 1:
                raise TemplateError(f"route {route.key} is defined twice")

    @classmethod
    def from_template(cls, template: Mapping, resolver: Resolver | None = None):
        """The routes of the template's AWS::ApiGatewayV2::Route resources."""
        resolver = resolver or local_resolver(template)
        _refuse_sam_events(template)
        resources = template.get("Resources", {})
        routes = []
        for logical_id, resource in resources.items():
            if resource.get("Type") == "AWS::ApiGatewayV2::Route" and exists(resolver, resource):
                routes.append(_route(logical_id, resource, resolver))
        return cls(routes)

    def match(self, method: str, path: str) -> Match | None:
        """The most specific route for `method` and the URL-decoded `path`, if any."""
        found = []
        for route in self.routes:
            parameters = _path_parameters(route, path)
            if parameters is not None and route.method in (method, "ANY"):
                found.append((_specificity(route), route, parameters))
        if not found:
            return None
        _, route, parameters = min(found, key=lambda item: item[0])
        return Match(route.key, route.function, parameters)


def _check_key(key: str) -> None:
    if key == DEFAULT_ROUTE:
        return
    method, _, path = key.partition(" ")
    if method not in METHODS or not path.startswith("/"):
        raise TemplateError(f"route key {key!r} is not 'METHOD /path'")
    if path != "/" and (path.endswith("/") or "//" in path):
        raise TemplateError(f"route key {key!r}: API Gateway routes no path ending in '/'")
    if any(segment.endswith("+}") for segment in path[1:].split("/")[:-1]):
        raise TemplateError(f"route key {key!r}: a greedy variable must be the last segment")


def _path_parameters(route: Route, path: str) -> dict[str, str] | None:
    """The route's path parameters if `path` matches it, else None."""
    if route.key == DEFAULT_ROUTE:
        return {}
    parts, segments = path[1:].split("/"), route.segments
    if route.greedy:
        # The greedy variable needs the "/" after its prefix; what follows may be empty, which
        # is how "/x/" reaches "/x/{proxy+}". The root path is no greedy route's.
        fixed = segments[:-1]
        if path == "/" or len(parts) <= len(fixed):
            return None
        parameters = _segment_parameters(fixed, parts[:len(fixed)])
        if parameters is not None:
            parameters[_VARIABLE.fullmatch(segments[-1]).group(1)] = "/".join(parts[len(fixed):])
        return parameters
    if len(parts) != len(segments):
        return None
    return _segment_parameters(segments, parts)


def _segment_parameters(segments: list[str], parts: list[str]) -> dict[str, str] | None:
    parameters = {}
    for segment, part in zip(segments, parts):
        variable = _VARIABLE.fullmatch(segment)
        if variable and part:
            parameters[variable.group(1)] = part
        elif segment != part or not part:
            return None
    return parameters


def _specificity(route: Route) -> tuple:
    """Sorts the most specific route first."""
    if route.key == DEFAULT_ROUTE:
        return (2,)
    literal_first = tuple(1 if _VARIABLE.fullmatch(s) else 0 for s in route.segments)
    return (int(route.greedy), -len(route.segments), literal_first, route.method == "ANY")


def _route(logical_id: str, resource: Mapping, resolver: Resolver) -> Route:
    where = f"Resources.{logical_id}.Properties"
    properties = resolver.resolve(resource.get("Properties", {}), where)
    target = properties.get("Target", "")
    if not isinstance(target, str) or not target.startswith("integrations/"):
        raise TemplateError(f"{where}.Target must be 'integrations/<id>', not {target!r}")
    integration_id = target.removeprefix("integrations/")
    return Route(properties["RouteKey"], _integrated_function(integration_id, resolver))


def _integrated_function(integration_id: str, resolver: Resolver) -> str:
    """The logical id of the function an AWS_PROXY, payload 2.0 integration invokes."""
    where = f"Resources.{integration_id}.Properties"
    resource = resolver.template.get("Resources", {}).get(integration_id, {})
    properties = resolver.resolve(resource.get("Properties", {}), where)
    if properties.get("IntegrationType") != "AWS_PROXY":
        raise TemplateError(f"{where}: the local stack runs only AWS_PROXY integrations")
    if str(properties.get("PayloadFormatVersion")) != "2.0":
        raise TemplateError(f"{where}: the local stack builds payload format 2.0 events only")
    uri = str(properties.get("IntegrationUri", ""))
    for logical_id, candidate in resolver.template["Resources"].items():
        arn = resolver.attributes.get(f"{logical_id}.Arn", "")
        if candidate.get("Type") == FUNCTION and re.search(re.escape(arn) + r"($|[/:])", uri):
            return logical_id
    raise TemplateError(f"{where}.IntegrationUri names no function of the template: {uri!r}")


def _refuse_sam_events(template: Mapping) -> None:
    # Routes declared as SAM events would be missing locally, and SAM drops some silently.
    for logical_id, resource in template.get("Resources", {}).items():
        events = resource.get("Properties", {}).get("Events", {}) or {}
        if any(event.get("Type") == "HttpApi" for event in events.values()):
            raise TemplateError(f"{logical_id} declares HttpApi events; the local stack routes "
                                "AWS::ApiGatewayV2::Route resources only")
