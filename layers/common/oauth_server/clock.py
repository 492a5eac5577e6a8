"""The one clock every expiry is read from, in whole seconds since the epoch.

Callers write `clock.now()` (never `from .clock import now`) so that tests can move time
forward with one monkeypatch, without sleeping.
"""

import time


def now() -> int:
    return int(time.time())
