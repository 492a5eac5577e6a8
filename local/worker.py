"""One execution environment of a function: a process of its own, as Lambda gives each one.

Started by local.environments as `python local/worker.py LOGICAL_ID` (the id is there for
`ps`). The first line on stdin is the function's spec: handler, code directories, name, ARN,
memory and timeout, as JSON. Then events arrive one per line; each answer leaves as one JSON
line on the original stdout: {"result": ...} or {"error": traceback}. The handler is imported
on the first event (the cold start) and kept while the process lives, with whatever module
state it builds.

Only the standard library is imported here, and nothing of the local stack: the handler's own
imports are the whole cost of a cold start, and its modules are the only ones loaded.
"""

import importlib
import json
import os
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable


class LambdaContext:
    """The context object Lambda passes; the attributes Powertools and handlers read."""

    def __init__(self, name: str, arn: str, memory_mb: int, timeout_s: int):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    # Ctrl-C reaches the whole process group; the stack, not the keyboard, stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    events, replies = _protocol_channels()
    spec = json.loads(events.readline() or "null")
    if spec is None:
        return  # stopped before it was told what to run
    # Lambda puts the function's code and its layers first, and nothing of the local stack.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = spec["code_dirs"] + [p for p in sys.path if os.path.abspath(p) != here]
    runtime = Runtime(spec)
    for line in events:  # ends when the stack closes stdin, or dies
        replies.write(runtime.answer(line) + "\n")
        replies.flush()


class Runtime:
    """Imports the handler on the first event, then answers each event with its result."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.entry: Callable | None = None

    def answer(self, line: str) -> str:
        try:
            self.entry = self.entry or load(self.spec["handler"])
            return json.dumps({"result": self.entry(json.loads(line), self._context())})
        except BaseException:  # the gateway answers 500, as for a crash; a failed import
            return json.dumps({"error": traceback.format_exc()})  # is retried, as in Lambda

    def _context(self) -> LambdaContext:
        spec = self.spec
        return LambdaContext(spec["name"], spec["arn"], spec["memory_mb"], spec["timeout_s"])


def load(handler: str) -> Callable:
    """The function `handler` ("module.function") names, imported from sys.path."""
    module_name, _, attribute = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _protocol_channels():
    """Private copies of stdin and stdout for the protocol; fd 0 and 1 then point elsewhere.

    Whatever the handler prints or logs to stdout (Powertools' Logger writes there) goes to
    stderr, the developer's console, and cannot be taken for an answer.
    """
    events = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True)  # now a console: lines appear as written
    return events, replies


if __name__ == "__main__":
    main()
