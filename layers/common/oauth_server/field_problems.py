"""A request that broke validation rules, naming each failing field (SPEC.md §4).

Kept apart from the pydantic models so that code which only reports problems (the admin
handler's error answer, the rules checked against a stored client) need not import pydantic.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str  # as the API names it: "name", "redirect_uris[2]"
    message: str

    def as_json(self) -> dict:
        return asdict(self)


class InvalidFields(Exception):
    """A request body broke one or more validation rules; `problems` names each field."""

    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(f"{p.field} {p.message}" for p in problems))
        self.problems = problems
