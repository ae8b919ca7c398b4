"""An HTTP video server on 127.0.0.1 for stream tests: serves one body at /clip
as a live stream (no length) or as a file (a length, Range support optional),
and can cut the connection part-way (a dropped network stream)."""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from c3ae.source.http_file import PROBE_AGENT


class ClipServer:
    """Serves `body` at /clip: the first `drops` reads are cut after `cut_at`
    bytes, the next `whole` get all of it, later ones a 404 (the camera went
    away for good, so a reconnecting reader ends). `length`: send a
    Content-Length (a file; without it the body ends when the connection
    closes, as a live stream's does); `ranges`: honour Range requests (a server
    a reader can seek on). Our reader's probe (`PROBE_AGENT`) is counted in
    `probes`, not in `requests`. Use as a context manager: the server thread is
    stopped on exit."""

    def __init__(self, body: bytes, content_type: str = "video/mp4", *, drops: int = 0, cut_at: int = 0,
                 whole: int = 1, length: bool = False, ranges: bool = False) -> None:
        self.requests = 0
        self.probes = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a reader that stops reading cannot hold a server thread for ever

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                probe = self.headers.get("User-Agent", "").startswith(PROBE_AGENT)
                if probe:
                    server.probes += 1
                else:
                    server.requests += 1
                if self.path != "/clip" or (not probe and server.requests > drops + whole):
                    self.send_error(404)
                    return
                cut = not probe and server.requests <= drops
                start, end = 0, len(body) - 1
                asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if ranges and asked:
                    start, end = int(asked[1]), min(int(asked[2] or end), end)
                self.send_response(206 if ranges and asked else 200)
                self.send_header("Content-Type", content_type)
                if ranges:
                    self.send_header("Accept-Ranges", "bytes")
                    if asked:
                        self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
                if length or (ranges and asked):
                    self.send_header("Content-Length", str(end + 1 - start))
                self.end_headers()
                try:
                    self.wfile.write(body[:cut_at] if cut else body[start:end + 1])
                    self.wfile.flush()
                except OSError:  # the reader went away first
                    pass
                self.close_connection = True

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/clip"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="clip-server",
                                        daemon=True)

    def __enter__(self) -> ClipServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
