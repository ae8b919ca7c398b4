"""An HTTP video server on 127.0.0.1 for stream tests: serves one body per
path, and can cut the connection part-way (a dropped network stream)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ClipServer:
    """Serves `body` at /clip: the first `drops` requests are cut after `cut_at`
    bytes, the next `whole` get all of it, later ones a 404 (the camera went
    away for good, so a reconnecting reader ends). Use as a context manager."""

    def __init__(self, body: bytes, content_type: str = "video/mp4", *, drops: int = 0, cut_at: int = 0,
                 whole: int = 1) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests += 1
                if self.path != "/clip" or server.requests > drops + whole:
                    self.send_error(404)
                    return
                cut = server.requests <= drops
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body[:cut_at] if cut else body)
                    self.wfile.flush()
                except OSError:  # the reader went away first
                    pass
                self.close_connection = True

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/clip"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> ClipServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
