"""Template parameters: their defaults, and the settings a developer gives in the environment.

`REFRESH_REUSE_GRACE_SECONDS=30 make run` must behave as deploying with that parameter would, so
a setting is accepted under the name of the parameter (RefreshReuseGraceSeconds) or under the
name of a function variable the template fills with a plain `!Ref` of it, and is checked against
the parameter's constraints exactly as CloudFormation checks them.
"""

import re
from collections.abc import Mapping


class SettingError(Exception):
    """A setting given in the environment is one CloudFormation would refuse."""


def parameter_values(template: Mapping, environ: Mapping[str, str]) -> dict:
    """Each parameter's value: the setting from `environ` if there is one, else its Default.

    Parameters with neither are left out, so that a Ref to one fails loudly where it is used.
    """
    given = settings_from_environ(template, environ)
    values = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in given:
            source, value = given[name]
            try:
                values[name] = _checked(name, spec, value)
            except SettingError as error:
                raise SettingError(f"{source}={value} refused: {error}") from None
        elif "Default" in spec:
            values[name] = _typed(spec, _text(spec["Default"]))
    return values


def settings_from_environ(template: Mapping, environ: Mapping[str, str]) -> dict:
    """Parameter name -> (the name it was given under, value), for settings in `environ`."""
    by_variable = _parameters_by_variable(template)
    given = {}
    for name, value in environ.items():
        parameter = name if name in template.get("Parameters", {}) else by_variable.get(name)
        if parameter is None:
            continue
        if parameter in given and given[parameter][1] != value:
            raise SettingError(f"{given[parameter][0]} and {name} set {parameter} differently")
        given[parameter] = (name, value)
    return given


def _parameters_by_variable(template: Mapping) -> dict[str, str]:
    """Function variable -> parameter, for variables whose value is exactly `!Ref Parameter`."""
    parameters = template.get("Parameters", {})
    found = {}
    for variables in _variable_maps(template):
        for variable, value in variables.items():
            if isinstance(value, dict) and value.get("Ref") in parameters:
                found[variable] = value["Ref"]
    return found


def _variable_maps(template: Mapping):
    globals_ = template.get("Globals", {}).get("Function", {})
    yield globals_.get("Environment", {}).get("Variables", {})
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            properties = resource.get("Properties", {})
            yield properties.get("Environment", {}).get("Variables", {})


def _checked(name: str, spec: Mapping, value: str):
    """The value typed as CloudFormation types it, or SettingError saying which rule failed."""
    allowed = [_text(v) for v in spec.get("AllowedValues", [])]
    if allowed and value not in allowed:
        raise SettingError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    if spec.get("Type", "String") == "Number":
        _check_number(name, spec, value)
    else:
        _check_string(name, spec, value)
    return _typed(spec, value)


def _check_number(name: str, spec: Mapping, value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        raise SettingError(f"{name} must be a number; got {value!r}") from None
    low, high = spec.get("MinValue"), spec.get("MaxValue")
    if _outside(number, low, high):
        raise SettingError(f"{name} must be {_bounds(low, high)}; got {value}")


def _check_string(name: str, spec: Mapping, value: str) -> None:
    low, high = spec.get("MinLength"), spec.get("MaxLength")
    if _outside(len(value), low, high):
        raise SettingError(f"{name} must be {_bounds(low, high)} characters long; "
                           f"got {len(value)}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise SettingError(f"{name} must match {pattern}; got {value!r}"
                           + (f" ({spec['ConstraintDescription']})"
                              if "ConstraintDescription" in spec else ""))


def _outside(number: float, low, high) -> bool:
    return (low is not None and number < float(low)) or (high is not None and number > float(high))


def _bounds(low, high) -> str:
    if low is None:
        return f"at most {high}"
    return f"at least {low}" if high is None else f"between {low} and {high}"


def _typed(spec: Mapping, value: str):
    # Ref of a list parameter is a list; of anything else, the text as given.
    kind = spec.get("Type", "String")
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        return [item.strip() for item in value.split(",")]
    return value


def _text(value) -> str:
    # YAML reads `Default: 120` as a number and `Default: true` as a boolean; CloudFormation
    # sees the text.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
