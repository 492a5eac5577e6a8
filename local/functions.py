"""The template's functions, and a way to run them in this process.

A Function is what the template says of one function: its handler, its code and layer
directories, its name, memory and timeout. Function.invoke runs it in this process, imported
on its first request (its cold start) and handling one event at a time: Lambda gives every
execution environment one event at a time, and handlers may keep state in module globals that
is not safe to share between threads. That is what tests with a fake handler or moto's
in-process mock need; the local stack runs each function in worker processes instead
(local.environments), so that simultaneous requests meet as they would in production.
"""

import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from local.intrinsics import Resolver, TemplateError
from local.resources import FUNCTION, exists
from local.worker import LambdaContext, load


class FunctionTimeout(Exception):
    """The handler did not answer within the time the gateway waits for it."""


class HandlerError(Exception):
    """The handler or its import raised, or its process died; `report` is what Lambda logs."""

    def __init__(self, logical_id: str, report: str):
        super().__init__(logical_id)
        self.report = report


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
            error = outcome["error"]
            report = "".join(traceback.format_exception(error))
            raise HandlerError(self.logical_id, report) from error
        return outcome["result"]

    def spec(self) -> dict:
        """What a worker process needs to import and call this function (see local.worker)."""
        return {"handler": self.handler, "code_dirs": [str(d) for d in self.code_dirs],
                "name": self.name, "arn": self.arn, "memory_mb": self.memory_mb,
                "timeout_s": self.timeout_s}

    def _context(self) -> LambdaContext:
        return LambdaContext(self.name, self.arn, self.memory_mb, self.timeout_s)

    def _run(self, event: dict, outcome: dict) -> None:
        with self._lock:
            try:
                entry = self._load()
                outcome["result"] = entry(event, self._context())
            except BaseException as error:  # the gateway answers 500, as for a crash
                outcome["error"] = error

    def _load(self) -> Callable:
        if self.entry is None:
            # Lambda puts the function's code and its layers ahead of the standard library.
            missing = [str(d) for d in self.code_dirs if str(d) not in sys.path]
            sys.path[0:0] = missing
            self.entry = load(self.handler)
        return self.entry


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
