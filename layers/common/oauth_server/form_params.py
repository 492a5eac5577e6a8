"""The form parameters of a back-channel request: token, revocation, introspection."""

from authlib.oauth2.rfc6749.errors import InvalidRequestError

from .request_params import InvalidParameter, resources
from .oauth_errors import InvalidTargetError

# Every parameter these endpoints read; others are ignored (RFC 6749 §3.2 lets them pass).
KNOWN = frozenset({
    "grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
    "client_id", "client_secret", "token", "token_type_hint",
})
# RFC 8707 §2: `resource` may be repeated, once for each audience.
REPEATABLE = "resource"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


class FormParams:
    """Parameters sent at most once (RFC 6749 §3.2); an empty value counts as none sent."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._values: dict[str, str] = {}
        self._resources: list[str] = []
        for name, value in pairs:
            if name == REPEATABLE:
                self._resources.append(value)
            elif name in self._values and name in KNOWN:
                raise InvalidRequestError(f"The parameter {name} was sent more than once.")
            else:
                self._values[name] = value

    def get(self, name: str) -> str | None:
        return self._values.get(name) or None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise InvalidRequestError(f"The parameter {name} is missing.")
        return value

    def resources(self) -> list[str]:
        """The `resource` parameters, normalised (RFC 8707 §2)."""
        try:
            return resources(self._resources)
        except InvalidParameter as error:
            raise InvalidTargetError(_ascii(str(error))) from None


def check_media_type(content_type: str) -> None:
    """RFC 6749 §3.2: the body is application/x-www-form-urlencoded."""
    if content_type.split(";")[0].strip().lower() != FORM_MEDIA_TYPE:
        raise InvalidRequestError(f"Send the parameters as {FORM_MEDIA_TYPE}.")


def _ascii(text: str) -> str:
    # RFC 6749 §5.2 limits error_description to printable ASCII without `"` and `\`.
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "?"
                   for c in text)
