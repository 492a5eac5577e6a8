"""CloudFormation intrinsic functions, evaluated against the local stack's values.

The local stack reads template.yaml instead of deploying it, so it resolves `Ref`, `Fn::Sub`,
`Fn::If` and their kin itself. Whatever it cannot resolve raises TemplateError naming the place,
so a template the local stack does not understand stops `make run` at start instead of handing a
handler a wrong value.
"""

import re
from collections.abc import Mapping

# AWS::NoValue: the key or list item holding it disappears.
NO_VALUE = object()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """template.yaml holds something the local stack cannot reproduce."""


class Resolver:
    """Evaluates template values.

    `refs` maps what `Ref` can name (parameters, pseudo parameters, resources) to its local
    value; `attributes` maps "LogicalId.Attribute" to what `Fn::GetAtt` returns. Both may grow
    after creation, as the stack creates the resources they describe.
    """

    def __init__(self, template: Mapping, refs: dict, attributes: dict):
        self.template = template
        self.refs = refs
        self.attributes = attributes
        self._conditions: dict[str, bool] = {}

    def resolve(self, value, where: str):
        if isinstance(value, list):
            items = (self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value))
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument, where)
        items = ((k, self.resolve(v, f"{where}.{k}")) for k, v in value.items())
        return {k: v for k, v in items if v is not NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions", {})
            if name not in conditions:
                raise TemplateError(f"condition {name} is not defined")
            self._conditions[name] = bool(
                self.resolve(conditions[name], f"Conditions.{name}"))
        return self._conditions[name]

    def ref(self, name: str, where: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self.refs:
            raise TemplateError(f"{where}: the local stack has no value for Ref {name}"
                                f"{_hint(self.template, name)}")
        return self.refs[name]

    def get_att(self, name: str, where: str):
        if name not in self.attributes:
            raise TemplateError(f"{where}: the local stack has no value for GetAtt {name}")
        return self.attributes[name]

    def _intrinsic(self, key: str, argument, where: str):
        function = _FUNCTIONS.get(key)
        if function is None:
            raise TemplateError(f"{where}: the local stack does not evaluate {key}")
        return function(self, argument, f"{where}.{key}")


def _hint(template: Mapping, name: str) -> str:
    # A parameter without a Default is the one case the developer can fix from the shell.
    if name in template.get("Parameters", {}):
        return f" (parameter without Default: set {name}=... in the environment)"
    return ""


def _ref(resolver: Resolver, name, where: str):
    return resolver.ref(name, where)


def _get_att(resolver: Resolver, argument, where: str):
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    logical_id, attribute = resolver.resolve(argument, where)
    return resolver.get_att(f"{logical_id}.{attribute}", where)


def _sub(resolver: Resolver, argument, where: str):
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    variables = resolver.resolve(variables, where)

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} stands for the text ${Literal}
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            return str(resolver.get_att(name, where))
        return str(resolver.ref(name, where))

    return _SUB_VARIABLE.sub(replace, text)


def _if(resolver: Resolver, argument, where: str):
    name, when_true, when_false = argument
    chosen = when_true if resolver.condition(name) else when_false
    return resolver.resolve(chosen, where)


def _join(resolver: Resolver, argument, where: str):
    delimiter, items = resolver.resolve(argument, where)
    return delimiter.join(str(item) for item in items)


def _select(resolver: Resolver, argument, where: str):
    index, items = resolver.resolve(argument, where)
    return items[int(index)]


def _split(resolver: Resolver, argument, where: str):
    delimiter, text = resolver.resolve(argument, where)
    return text.split(delimiter)


def _find_in_map(resolver: Resolver, argument, where: str):
    name, top, second = resolver.resolve(argument, where)
    try:
        return resolver.template["Mappings"][name][top][second]
    except KeyError:
        raise TemplateError(f"{where}: no mapping {name}.{top}.{second}") from None


def _equals(resolver: Resolver, argument, where: str):
    left, right = resolver.resolve(argument, where)
    return str(left) == str(right)


def _not(resolver: Resolver, argument, where: str):
    return not resolver.resolve(argument[0], where)


def _and(resolver: Resolver, argument, where: str):
    return all(resolver.resolve(argument, where))


def _or(resolver: Resolver, argument, where: str):
    return any(resolver.resolve(argument, where))


def _condition(resolver: Resolver, name, where: str):
    return resolver.condition(name)


_FUNCTIONS = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::If": _if,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Condition": _condition,
}
