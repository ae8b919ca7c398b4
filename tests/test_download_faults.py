"""The download of an MP4 that cannot be read as it arrives (index at its end, a
server without Range support), against slow, stalling and cutting servers: a
stop ends it at once, a cut is a truncated input (exit 1) that says how many
bytes came, and no temporary copy outlives its run."""
from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_http_file import _mp4

import c3ae.source.http_file as http_file
import c3ae.source.video as video_module
from c3ae.cli.annotate import main
from c3ae.cli.exits import EXIT_TRUNCATED
from c3ae.errors import SourceCut, SourceError
from c3ae.source.video import VideoSource

QUICK = 128 * 1024  # sent at once: the probe's 64 KB, then the download's start


class SlowServer:
    """Serves `body` with its length and no Range support: QUICK bytes at once,
    then `rate` bytes a second; after `stall_at` bytes it sends nothing more
    (holding the connection), after `cut_at` it closes it."""

    def __init__(self, body: bytes, *, rate: int = 40_000, stall_at: int | None = None,
                 cut_at: int | None = None) -> None:
        done = threading.Event()
        self.done = done

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                sent = 0
                try:
                    while sent < len(body) and not done.is_set():
                        if sent == stall_at:
                            done.wait(30)
                            return
                        if sent == cut_at:
                            return
                        size = QUICK if sent == 0 else rate // 10
                        size = min([size, *(x - sent for x in (stall_at, cut_at) if x is not None and x > sent)])
                        self.wfile.write(body[sent:sent + size])
                        sent += size
                        if sent > QUICK:
                            time.sleep(0.1)
                except OSError:  # the reader went away
                    pass

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/clip.mp4"

    def __enter__(self) -> SlowServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def body(tmp_path_factory) -> bytes:
    return _mp4(tmp_path_factory.mktemp("dl") / "end.mp4", faststart=False)


@pytest.fixture
def temp(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(http_file.tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_stop_during_a_slow_download_ends_it_within_a_second(body, temp):
    asked: list[float] = []
    threading.Timer(1.5, lambda: asked.append(time.monotonic())).start()
    with SlowServer(body) as server, pytest.raises(SourceError, match="Stopped while downloading") as stopped:
        VideoSource(server.url, stop=lambda: bool(asked))
    assert time.monotonic() - asked[0] < 1.0  # was: 13-15 s, the stop seen only between 1 MiB reads
    assert "0.2 of 3." in str(stopped.value) or "0.1 of 3." in str(stopped.value)  # what had come
    assert list(temp.iterdir()) == []


def test_a_stalled_download_says_how_much_came_and_is_a_truncated_input(body, temp, monkeypatch, capsys):
    monkeypatch.setattr(video_module, "STREAM_TIMEOUT_MS", 1000)
    with SlowServer(body, stall_at=307_200) as server:
        with pytest.raises(SourceCut, match="cut after 307200 of"):  # was: "failed after 0 bytes"
            VideoSource(server.url)
        assert main([server.url, "-o", str(temp / "o.mp4"), "--allow-untrained"]) == EXIT_TRUNCATED
    err = capsys.readouterr().err
    assert "error: Cannot read" in err and "cut after 307200" in err and "Traceback" not in err
    assert [p.name for p in temp.iterdir()] == []


def test_a_connection_cut_part_way_exits_1(body, temp, capsys):
    with SlowServer(body, rate=10_000_000, cut_at=len(body) // 2) as server:
        assert main([server.url, "-o", str(temp / "o.mp4"), "--allow-untrained"]) == EXIT_TRUNCATED  # was: 2
    assert f"cut after {len(body) // 2} of its {len(body)} bytes" in capsys.readouterr().err


def test_the_copies_of_dead_runs_are_removed_by_the_next_download(body, temp):
    dead = temp / f"c3ae-{2**22 + 7}-x1y2.mp4"  # over any pid_max: that run is gone
    alive = temp / f"c3ae-{os.getpid()}-a1b2.mp4"
    dead.write_bytes(b"left by a killed run")
    alive.write_bytes(b"a run in progress")
    with SlowServer(body, rate=10_000_000) as server, VideoSource(server.url) as source:
        assert source.read() is not None
    assert not dead.exists() and alive.exists()  # was: left for ever
    alive.unlink()
