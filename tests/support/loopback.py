"""A real HTTP server on 127.0.0.1 that tests program route by route."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # When set, the body is sent from this with chunked encoding (no Content-Length).
    stream: Iterable[bytes] | None = None


Handler = Callable[["Request"], Response]


class QuietHTTPServer(ThreadingHTTPServer):
    """A client resetting its connection is no error of the server's: it prints nothing
    (the default prints a traceback, which tests that look for watcher's would see)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when the server read it
    # The client's address and port: one peer per connection the client opened.
    peer: str = ""


class LoopbackServer:
    """Serves programmed responses; records every request it receives.

    A route is a fixed Response, or a callable taking the Request, for
    conditional GET, redirects or responses that change between calls.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                host, port = self.client_address[:2]
                peer = f"{host}:{port}"
                request = Request("GET", self.path, headers, peer=peer)
                with server._lock:
                    server.requests.append(request)
                    route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    response = Response(b"not found", 404)
                elif callable(route):
                    response = route(request)
                else:
                    response = route
                if response.delay:
                    time.sleep(response.delay)
                try:
                    self.send_response(response.status)
                    if response.stream is not None:
                        framing = {"Transfer-Encoding": "chunked"}
                    else:
                        framing = {"Content-Length": str(len(response.body))}
                    for name, value in {**framing, **response.headers}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if response.stream is not None:
                        self._write_chunked(response.stream)
                    elif response.status != 304:
                        self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _write_chunked(self, chunks: Iterable[bytes]) -> None:
                for chunk in chunks:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = QuietHTTPServer((host, port), _Handler)
        # A short poll interval keeps stop() (every test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, response: Response | Handler | bytes | str, **kwargs) -> str:
        if isinstance(response, str):
            response = response.encode()
        if isinstance(response, bytes):
            response = Response(response, **kwargs)
        with self._lock:
            self.routes[path] = response
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
