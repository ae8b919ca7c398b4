"""Video files over http(s): they end at their end (no reconnecting), whichever
MP4 layout, on servers with and without Range support."""
from __future__ import annotations

import signal
import socket
import time

import av
import numpy as np
import pytest
from streaming import ClipServer
from synth import count_frames

import c3ae.source.http_file
from c3ae.cli.annotate import main
from c3ae.errors import SourceError
from c3ae.runtime.stops import stop_requests
from c3ae.source.http_file import index_at_end, probe
from c3ae.source.video import VideoSource

FRAMES = 30


def _mp4(path, faststart: bool, n: int = FRAMES, size=(320, 240)) -> bytes:
    """An H.264 MP4 of noise (about 3.4 MB: far more than FFmpeg's read buffer, so
    an index at the end can only be reached by seeking); frame i's top-left
    pixel block is 8 * i, to tell frames apart."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "+faststart"} if faststart else {}) as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "qp": "10"})
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i in range(n):
            image = rng.integers(0, 255, (size[1], size[0], 3), np.uint8)
            image[:32, :32] = 8 * i
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("http")
    return {"front": _mp4(folder / "front.mp4", True), "end": _mp4(folder / "end.mp4", False)}


def _read_all(source: VideoSource) -> list[int]:
    """Every frame's marker (see `_mp4`) until the source ends."""
    markers = []
    while (frame := source.read()) is not None:
        markers.append(round(float(frame[:32, :32].mean()) / 8))
    return markers


def test_mp4_layout_is_read_from_its_first_boxes(clips):
    assert index_at_end(clips["end"]) and not index_at_end(clips["front"])
    assert not index_at_end(b"\x1aE\xdf\xa3" + bytes(60))  # Matroska: not an MP4
    assert not index_at_end(clips["end"][:20])  # too short to tell: read as it comes


@pytest.mark.parametrize("layout,ranges", [("front", False), ("front", True), ("end", True)])
def test_http_file_ends_at_its_end(clips, layout, ranges):
    """The bug: a file's end was taken for a dropped stream and read again for ever.
    The server would serve it again (`whole`), so only ending stops the reader."""
    notices: list[str] = []
    with ClipServer(clips[layout], length=True, ranges=ranges, whole=20) as server:
        with VideoSource(server.url, reconnect_s=5, on_notice=notices.append) as source:
            assert not source.is_live and source.frame_count == FRAMES and source.label.startswith("video file")
            markers = _read_all(source)
    assert markers == list(range(FRAMES)) and source.gaps == [] and notices == []
    assert server.probes == 1 and (server.requests == 1 or ranges)  # no second reading without a seek


def test_index_at_end_without_range_support_is_downloaded_first(clips):
    notices: list[str] = []
    with ClipServer(clips["end"], length=True, ranges=False, whole=20) as server:
        with VideoSource(server.url, on_notice=notices.append) as source:
            copy = source._downloaded
            assert copy is not None and copy.stat().st_size == len(clips["end"])
            assert not source.is_live and source.frame_count == FRAMES
            source.seek(10)
            assert _read_all(source) == list(range(10, FRAMES))
    assert not copy.exists()  # the temporary copy goes with the source
    assert "no Range support" in notices[0] and "downloaded" in notices[-1]
    assert server.probes == 2 and server.requests == 0  # the probe, the download; FFmpeg reads the copy


def test_index_at_end_over_the_download_limit_is_refused_with_the_fix(clips, monkeypatch):
    monkeypatch.setattr(c3ae.source.http_file, "DOWNLOAD_LIMIT", len(clips["end"]) - 1)
    with ClipServer(clips["end"], length=True, ranges=False, whole=20) as server:
        with pytest.raises(SourceError, match="cannot seek") as refused:
            VideoSource(server.url)
    assert "faststart" in str(refused.value) and "curl" in str(refused.value) and server.requests == 0


def test_download_stops_when_asked_and_leaves_no_temporary_file(clips, tmp_path, monkeypatch):
    """Ctrl+C during the download: `annotate` passes its stop requests as `stop`."""
    monkeypatch.setattr(c3ae.source.http_file.tempfile, "tempdir", str(tmp_path))
    with ClipServer(clips["end"], length=True, ranges=False, whole=20) as server:
        with pytest.raises(SourceError, match="Stopped while downloading"):
            VideoSource(server.url, stop=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_http_file_cut_short_ends_as_truncated_without_reconnecting(clips):
    body = clips["front"]
    with ClipServer(body, length=True, drops=1, cut_at=len(body) * 2 // 3, whole=20) as server:
        with VideoSource(server.url, reconnect_s=5) as source:
            markers = _read_all(source)
    assert 0 < len(markers) < FRAMES and server.requests == 1 and source.gaps == []
    assert "connection dropped" in source.truncation()


def test_probe_tells_files_from_feeds_and_playlists(clips):
    kinds = {"video/mp4": clips["end"], "multipart/x-mixed-replace; boundary=frame": b"--frame\r\n" * 100,
             "application/vnd.apple.mpegurl": b"#EXTM3U\n"}
    found = {}
    for content_type, body in kinds.items():
        with ClipServer(body, content_type, length=True, ranges=True) as server:
            found[content_type.split(";")[0]] = probe(server.url, 5)
    mp4, mjpeg, hls = found.values()
    assert mp4.is_file and mp4.ranges and mp4.length == len(clips["end"]) and mp4.index_at_end
    assert not mp4.needs_download  # the server can seek to the index
    assert not mjpeg.is_file and not hls.is_file and hls.playlist


def test_server_that_refuses_is_a_clear_error_at_once():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/clip"
        started = time.monotonic()
        with pytest.raises(SourceError, match="no answer"):
            VideoSource(url)
    assert time.monotonic() - started < 2


def test_missing_http_file_is_a_clear_error():
    with ClipServer(b"", length=True) as server, pytest.raises(SourceError, match="404"):
        VideoSource(server.url + "-missing")


def test_annotate_http_file_exits_0_with_its_frames(clips, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    with ClipServer(clips["front"], length=True, whole=20) as server:
        code = main([server.url, "-o", str(out), "--detector", "short", "--allow-untrained"])
    assert code == 0 and count_frames(out)[0] == FRAMES and server.requests == 1
    assert "until stopped" not in capsys.readouterr().err


def test_app_plays_an_http_file_as_a_file(clips):
    from app.worker.capture import Capture

    with ClipServer(clips["front"], length=True, ranges=True, whole=20) as server:
        capture = Capture(server.url)
        try:
            assert not capture.is_camera and capture.video.frame_count == FRAMES  # a seek bar, every frame in order
            frames = 0
            while capture.read() is not None:
                frames += 1
            assert frames == FRAMES and capture.index == FRAMES - 1 and not capture.lost
        finally:
            capture.close()


def test_annotate_stopped_while_downloading_exits_as_stopped(clips, tmp_path, capsys):
    """A stop that lands during the download is a stop (128 + signal), not a failure (2)."""
    out = tmp_path / "out.mp4"
    with ClipServer(clips["end"], length=True, ranges=False, whole=20) as server, stop_requests() as stop:
        stop.append(signal.SIGINT)  # as if Ctrl+C came before the first chunk arrived
        code = main([server.url, "-o", str(out), "--detector", "short", "--allow-untrained"])
    assert code == 128 + signal.SIGINT
    assert "stopped by SIGINT: before the first frame" in capsys.readouterr().out and not out.exists()
