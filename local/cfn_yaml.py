"""Read a CloudFormation (or SAM) template written in YAML, short-form tags included.

The result is the template as CloudFormation itself sees it, in plain dicts and lists:
`!Ref X` is {"Ref": "X"}, `!GetAtt A.B` is {"Fn::GetAtt": ["A", "B"]}, `!Sub s` is
{"Fn::Sub": s}, and every other `!Name v` is {"Fn::Name": v}.
"""

from pathlib import Path

import yaml

__all__ = ["load_template", "parse_template"]


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text and understands the intrinsic-function tags."""


# CloudFormation reads `2010-09-09` as a string, YAML 1.1 as a date.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _value(loader: yaml.Loader, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _get_att(value):
    # The short form "Resource.Attribute" splits at the first dot only: attribute names such
    # as Endpoint.Address contain dots of their own.
    if isinstance(value, str):
        return value.split(".", 1)
    return value


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict:
    value = _value(loader, node)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt":
        return {"Fn::GetAtt": _get_att(value)}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def parse_template(text: str) -> dict:
    """The template in `text` as plain data."""
    template = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict):
        raise ValueError("a template is a YAML mapping")
    return template


def load_template(path: str | Path) -> dict:
    """The template stored at `path` as plain data."""
    return parse_template(Path(path).read_text(encoding="utf-8"))
