"""moto's server on a thread of this process, answering one AWS request at a time.

moto's backends are not safe for simultaneous requests: two conditional writes of one item
can both succeed, and a scan can fail while a write changes the table. DynamoDB lets exactly
one in, and the functions' worker processes do call at the same moment, so requests are
served one at a time here. Each request to moto takes a few milliseconds; a race between two
requests to the functions still happens, between their AWS calls, as it would in production.
"""

import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        app = _one_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, app, threaded=True,
                                   request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto",
                                        daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits forever for a loop never started
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


def _one_at_a_time(app):
    lock = threading.Lock()

    def serve(environ, start_response):
        with lock:
            # moto answers with a list of bytes: all its work is done inside the call.
            return app(environ, start_response)

    return serve
