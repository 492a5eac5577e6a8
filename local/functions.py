"""The template's functions, run in this process the way Lambda runs them.

Each function is imported once, on its first request (its cold start), from the CodeUri and the
layer ContentUri the template names, and handles one event at a time: Lambda gives every
execution environment one event at a time, and handlers may keep state in module globals that
is not safe to share between threads.
"""

import importlib
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from local.intrinsics import Resolver, TemplateError
from local.resources import FUNCTION, exists


class FunctionTimeout(Exception):
    """The handler did not answer within the time the gateway waits for it."""


class HandlerError(Exception):
    """The handler (or its import) raised; the original exception is the cause."""


@dataclass
class Function:
    logical_id: str
    name: str = ""
    handler: str = ""  # "module.function", as in the template
    code_dirs: tuple[Path, ...] = ()  # CodeUri, then each layer's ContentUri
    memory_mb: int = 128
    timeout_s: int = 3
    arn: str = ""
    entry: Callable | None = None  # the imported handler; tests may give one directly
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def invoke(self, event: dict, wait_s: float):
        """The handler's result for `event`; FunctionTimeout after `wait_s` seconds.

        The handler runs in a thread of its own so that the gateway can give up waiting, as
        API Gateway does; like Lambda, a late handler still finishes in the background.
        """
        outcome = {}
        worker = threading.Thread(target=self._run, args=(event, outcome), daemon=True)
        worker.start()
        worker.join(wait_s)
        if worker.is_alive():
            raise FunctionTimeout(f"{self.logical_id} did not answer in {wait_s:g} s")
        if "error" in outcome:
            raise HandlerError(self.logical_id) from outcome["error"]
        return outcome["result"]

    def _run(self, event: dict, outcome: dict) -> None:
        with self._lock:
            try:
                entry = self._load()
                outcome["result"] = entry(event, LambdaContext(self))
            except BaseException as error:  # the gateway answers 500, as for a crash
                outcome["error"] = error

    def _load(self) -> Callable:
        if self.entry is None:
            module_name, _, attribute = self.handler.rpartition(".")
            # Lambda puts the function's code and its layers ahead of the standard library.
            missing = [str(d) for d in self.code_dirs if str(d) not in sys.path]
            sys.path[0:0] = missing
            self.entry = getattr(importlib.import_module(module_name), attribute)
        return self.entry


class LambdaContext:
    """The context object Lambda passes; the attributes Powertools and handlers read."""

    def __init__(self, function: Function):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def functions_from_template(template: Mapping, resolver: Resolver, root: Path) -> dict:
    """Logical id -> Function, for each AWS::Serverless::Function that would exist."""
    defaults = template.get("Globals", {}).get("Function", {})
    functions = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") == FUNCTION and exists(resolver, resource):
            properties = {**defaults, **resource.get("Properties", {})}
            functions[logical_id] = _function(logical_id, properties, resolver, root)
    return functions


def _function(logical_id: str, properties: Mapping, resolver: Resolver, root: Path):
    where = f"Resources.{logical_id}.Properties"
    code_uri = resolver.resolve(properties.get("CodeUri"), f"{where}.CodeUri")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{where}.CodeUri must be a local directory, not {code_uri!r}")
    layers = resolver.template.get("Resources", {})
    layer_ids = [_layer_id(layer, f"{where}.Layers") for layer in properties.get("Layers", [])]
    return Function(
        logical_id=logical_id,
        name=resolver.refs[logical_id],
        handler=properties["Handler"],
        code_dirs=(root / code_uri, *(_layer_dir(layers, i, root) for i in layer_ids)),
        memory_mb=int(properties.get("MemorySize", 128)),
        timeout_s=int(properties.get("Timeout", 3)),
        arn=resolver.attributes[f"{logical_id}.Arn"],
    )


def _layer_id(layer, where: str) -> str:
    if isinstance(layer, dict) and "Ref" in layer:
        return layer["Ref"]
    raise TemplateError(f"{where}: only layers of this template (!Ref) can run locally")


def _layer_dir(resources: Mapping, layer_id: str, root: Path) -> Path:
    """A Python layer's ContentUri holds the package itself; SAM moves it under python/."""
    content_uri = resources.get(layer_id, {}).get("Properties", {}).get("ContentUri")
    if not isinstance(content_uri, str):
        raise TemplateError(f"layer {layer_id} has no local ContentUri")
    return root / content_uri
