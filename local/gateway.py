"""A local API Gateway (HTTP API): routes requests to the handlers as the real one does.

Gateway.handle turns an HttpRequest into a Response without sockets, so tests can drive it
directly; GatewayServer puts it behind a threaded HTTP server. The limits and the bare error
answers are API Gateway's own, so a handler that works locally only because a limit was
missing is caught here rather than in production.
"""

import json
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from local.environments import PooledFunction
from local.events import (HttpRequest, InvalidResponse, Response, build_event,
                          error_response, new_request_id, to_response)
from local.functions import Function, FunctionTimeout, HandlerError
from local.routes import RouteTable

__all__ = ["Gateway", "GatewayServer", "HttpRequest", "Response", "RouteTable", "build_event"]

HEADER_LIMIT = 10_240  # bytes of request line and headers together
PAYLOAD_LIMIT = 6 * 1024 * 1024  # Lambda's limit for a synchronous invocation's event
INTEGRATION_TIMEOUT_S = 30


class Gateway:
    def __init__(self, routes: RouteTable, functions: Mapping[str, Function | PooledFunction],
                 quiet: bool = False, wait_s: float = INTEGRATION_TIMEOUT_S):
        self.routes = routes
        self.functions = functions
        self.quiet = quiet
        self.wait_s = wait_s

    def handle(self, request: HttpRequest) -> Response:
        started, request_id = time.monotonic(), new_request_id()
        function_id, response = self._respond(request, request_id)
        response.headers.append(("Apigw-Requestid", request_id))
        if not self.quiet:
            took = (time.monotonic() - started) * 1000
            print(f'{request.source_ip} "{request.method} {request.target}" {response.status} '
                  f"{function_id or '-'} {took:.0f}ms", file=sys.stderr, flush=True)
        return response

    def _respond(self, request: HttpRequest, request_id: str) -> tuple[str | None, Response]:
        if _header_bytes(request) > HEADER_LIMIT:
            return None, error_response(413, "Request Entity Too Large")
        match = self.routes.match(request.method, request.path)
        if match is None:
            return None, error_response(404, "Not Found")
        event = build_event(request, match, request_id)
        if len(json.dumps(event)) > PAYLOAD_LIMIT:
            return None, error_response(413, "Request Entity Too Large")
        return match.function, self._invoke(match.function, event)

    def _invoke(self, function_id: str, event: dict) -> Response:
        try:
            return to_response(self.functions[function_id].invoke(event, self.wait_s))
        except FunctionTimeout as timeout:
            print(f"{timeout}; answered 503", file=sys.stderr, flush=True)
            return error_response(503, "Service Unavailable")
        except HandlerError as error:
            # The developer's console gets what CloudWatch would; the client gets a bare 500.
            print(error.report.rstrip("\n"), file=sys.stderr, flush=True)
            return error_response(500, "Internal Server Error")
        except InvalidResponse as error:
            print(f"{function_id} returned an invalid response: {error}", file=sys.stderr)
            return error_response(500, "Internal Server Error")


def _header_bytes(request: HttpRequest) -> int:
    request_line = f"{request.method} {request.target} {request.protocol}"
    return len(request_line) + sum(len(name) + 2 + len(value) for name, value in request.headers)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-api-gateway"

    def version_string(self) -> str:
        return self.server_version

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            port=self.server.server_port,
        )
        self._send(self.server.gateway.handle(request))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes | None:
        """The body, or None once an error has been answered instead."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # Maintenance: chunked request bodies are not decoded; clients here send a length.
            return self._refuse(error_response(411, "Length Required"))
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self._refuse(error_response(400, "Bad Request"))
        if length > PAYLOAD_LIMIT:
            return self._refuse(error_response(413, "Request Entity Too Large"))
        return self.rfile.read(length)

    def _refuse(self, response: Response) -> None:
        self.close_connection = True  # the unread body must not be taken for a request
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up before the answer (a readiness probe, a closed tab)

    def log_request(self, code="-", size="-") -> None:
        pass  # Gateway.handle logs each request with its function and duration

    def log_message(self, format: str, *args) -> None:
        if not self.server.gateway.quiet:
            super().log_message(format, *args)


class GatewayServer(ThreadingHTTPServer):
    """Binds at creation, so a port in use fails before anything else starts; serves on start."""

    # API Gateway takes every connection. socketserver's backlog of 5 resets some of twenty
    # simultaneous clients whenever the accepting thread is slow to run (a busy machine).
    request_queue_size = 128

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 8000):
        super().__init__((host, port), _RequestHandler)
        self.gateway = gateway
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="local-gateway",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits forever for a loop never started
            self.shutdown()
            self._thread.join()
        self.server_close()
