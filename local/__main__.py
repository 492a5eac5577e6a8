"""`python -m local` (what `make run` runs): the local stack, until Ctrl-C.

PORT (default 8000) is the issuer's port; PROVIDER_PORT (9400) the sign-in provider's;
MOTO_PORT (a free one) moto's. LOCAL_CONCURRENCY (10) is how many execution environments,
each a process, one function may run at once. Any other variable named after a template
parameter, or after a function variable set from one (REFRESH_REUSE_GRACE_SECONDS=30), is a
setting.
"""

import os
import signal
import sys

from local.intrinsics import TemplateError
from local.parameters import SettingError
from local.provider import ADMIN_SUBJECT, ProviderError
from local.stack import CONCURRENCY, Stack, start


def main() -> int:
    # SIGTERM stops the stack as Ctrl-C does, so that nothing it started is left running.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack = start(port=_port("PORT", 8000), provider_port=_port("PROVIDER_PORT", 9400),
                      moto_port=_port("MOTO_PORT", 0), concurrency=_concurrency())
    except (TemplateError, SettingError, ProviderError, OSError) as error:
        print(f"local stack not started: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    try:
        print(_banner(stack), flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        print("\nstopping the local stack", file=sys.stderr)
    finally:
        stack.stop()
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise SystemExit(f"local stack not started: {name} must be a port number, not {value!r}")
    return int(value)


def _concurrency() -> int:
    value = os.environ.get("LOCAL_CONCURRENCY", "")
    if not value:
        return CONCURRENCY
    if not value.isdigit() or int(value) < 1:
        raise SystemExit("local stack not started: LOCAL_CONCURRENCY must be a whole number "
                         f"of at least 1, not {value!r}")
    return int(value)


def _banner(stack: Stack) -> str:
    return f"""
Local stack ready. State lives in memory and is gone when it stops (Ctrl-C).

  Issuer          {stack.issuer}
  Admin console   {stack.console_url}
  Admin API       {stack.admin_api_url}/
  Sign-in (mock)  {stack.provider_issuer}
  AWS (moto)      {stack.endpoint_url}

To sign in, open the console and click Sign in. At the provider's form, enter the subject
`{ADMIN_SUBJECT}` to sign in as an administrator, or anything else as an ordinary person.
"""


if __name__ == "__main__":
    sys.exit(main())
