"""The template's functions run as Lambda runs them: each in execution environments of its own.

An execution environment is a worker process (local/worker.py) that imports the handler on its
first event and then handles one event at a time for as long as it lives, keeping its module
state. A function gets a new environment when every one it has is busy, up to a cap, and a
request beyond the cap waits for one to come free. So simultaneous requests run side by side
with state apart, and a race between them happens here as it would in production. A handler
still running at the function's Timeout is stopped with its environment, as Lambda stops it,
and the request fails as a crash does.

The environment the stack set up (moto's endpoint, the functions' variables) is inherited by
each worker; events and answers cross as JSON lines, as they cross Lambda's runtime API.
"""

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from local.functions import Function, FunctionTimeout, HandlerError

WORKER = Path(__file__).with_name("worker.py")
STOP_WAIT_S = 5


class Environment:
    """One worker process, and the answers it sends back."""

    def __init__(self, logical_id: str, spec: dict):
        self._process = subprocess.Popen(
            [sys.executable, str(WORKER), logical_id],
            cwd=spec["code_dirs"][0],  # Lambda's working directory is the function's code
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, encoding="utf-8")
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, name=f"worker-{self.pid}", daemon=True).start()
        self._send(spec)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def call(self, event: dict, deadline: float) -> dict | None:
        """The worker's answer to `event`, or None if none came before `deadline`."""
        self._send(event)
        return self.answer(max(0.0, deadline - time.monotonic()))

    def answer(self, timeout_s: float | None) -> dict | None:
        try:
            answer = self._answers.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if answer is None:  # what Lambda reports when the runtime process dies mid-event
            return {"error": f"Runtime exited with error: {self._exit_status()}\n"}
        return answer

    def stop(self) -> None:
        """Terminates the worker, even mid-event; killed if it does not end in time."""
        try:
            self._process.stdin.close()  # an idle worker ends at once on end of input
        except OSError:  # a flushed pipe to a dead process: nothing is lost
            pass
        if self.alive:
            self._process.terminate()
        try:
            self._process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _send(self, message: dict) -> None:
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except (OSError, ValueError):  # the process is gone, or stopped: the reader says how
            pass

    def _read(self) -> None:
        for line in self._process.stdout:
            self._answers.put(json.loads(line))
        self._process.stdout.close()
        self._answers.put(None)

    def _exit_status(self) -> str:
        code = self._process.wait()
        return f"signal {-code}" if code < 0 else f"exit status {code}"


class PooledFunction:
    """A function served by up to `concurrency` execution environments, started on demand."""

    def __init__(self, function: Function, concurrency: int):
        self.logical_id = function.logical_id
        self._spec = function.spec()
        self._timeout_s = function.timeout_s
        self._concurrency = concurrency
        self._idle: list[Environment] = []  # most recently used last, and taken first
        self._all: set[Environment] = set()
        self._changed = threading.Condition()
        self._closed = False

    def invoke(self, event: dict, wait_s: float):
        """The handler's result for `event`. HandlerError if it raised, crashed or ran past the
        function's timeout; FunctionTimeout if `wait_s` seconds passed first."""
        deadline = time.monotonic() + wait_s
        environment = self._acquire(deadline)
        stop_at = time.monotonic() + self._timeout_s  # the function's own clock starts here
        answer = environment.call(event, min(deadline, stop_at))
        if answer is None and stop_at <= deadline:
            self._stop(environment)
            raise HandlerError(self.logical_id, f"Task timed out after {self._timeout_s:.2f} "
                                                "seconds\n")
        if answer is None:
            # The gateway stopped waiting; the handler runs on until it ends or its timeout.
            threading.Thread(target=self._release_when_done, args=(environment, stop_at),
                             daemon=True).start()
            raise FunctionTimeout(f"{self.logical_id} did not answer in {wait_s:g} s")
        self._release(environment)
        if "error" in answer:
            raise HandlerError(self.logical_id, answer["error"])
        return answer["result"]

    @property
    def pids(self) -> list[int]:
        """The worker processes alive now, busy or idle."""
        with self._changed:
            return [e.pid for e in self._all if e.alive]

    def close(self) -> None:
        """Stops every environment, busy ones included; later requests are refused."""
        with self._changed:
            self._closed = True
            environments, self._all, self._idle = list(self._all), set(), []
            self._changed.notify_all()
        for environment in environments:
            environment.stop()

    def _acquire(self, deadline: float) -> Environment:
        with self._changed:
            while not self._closed:
                environment = self._warm() or self._cold()
                if environment is not None:
                    return environment
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FunctionTimeout(
                        f"{self.logical_id}: all {self._concurrency} environments stayed busy")
                self._changed.wait(remaining)
            raise FunctionTimeout(f"{self.logical_id} is stopped")

    def _warm(self) -> Environment | None:
        while self._idle:
            environment = self._idle.pop()
            if environment.alive:
                return environment
            self._all.discard(environment)  # died while idle: the next one replaces it
        return None

    def _cold(self) -> Environment | None:
        if len(self._all) >= self._concurrency:
            return None
        environment = Environment(self.logical_id, self._spec)
        self._all.add(environment)
        return environment

    def _release(self, environment: Environment) -> None:
        with self._changed:
            if environment in self._all and environment.alive:
                self._idle.append(environment)
            else:  # crashed, or stopped by close(): a later request starts a new one
                self._all.discard(environment)
            self._changed.notify()

    def _release_when_done(self, environment: Environment, stop_at: float) -> None:
        if environment.answer(max(0.0, stop_at - time.monotonic())) is None:
            self._stop(environment)
        else:
            self._release(environment)

    def _stop(self, environment: Environment) -> None:
        """Ends a handler that ran out of time: its process goes, a later request starts anew."""
        environment.stop()
        self._release(environment)
