"""Inputs that are not what their headers promise: damage in the middle, frames
too small to encode, a variable frame rate, a live HLS playlist that stopped
growing. Each test makes its own clip."""
from __future__ import annotations

import functools
import json
import threading
import time
from fractions import Fraction
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np
import pytest
from synth import count_frames

import c3ae.source.video as video_module
from c3ae.cli.annotate import main
from c3ae.cli.exits import EXIT_ERROR, EXIT_TRUNCATED
from c3ae.model.network import C3AE
from c3ae.model.weights import export
from c3ae.source.video import VideoSource


@pytest.fixture(scope="module")
def placeholder(tmp_path_factory) -> list[str]:
    weights = tmp_path_factory.mktemp("weights") / "untrained.pt"
    export(C3AE(), weights, trained=False, config={})
    return ["--weights", str(weights), "--allow-untrained", "--detector", "short"]


def _noise(n: int, size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    base = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return [np.roll(base, 5 * i, axis=1) for i in range(n)]


def _h264(path: Path, frames: list[np.ndarray], times_ms: list[int] | None = None, fps: int = 25) -> Path:
    """An H.264 MP4 (index first); `times_ms`: each frame's presentation time (a variable rate)."""
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        if times_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i, frame in enumerate(frames):
            image = av.VideoFrame.from_ndarray(frame, format="bgr24")
            if times_ms is not None:
                image.pts, image.time_base = times_ms[i], Fraction(1, 1000)
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    return path


def _error_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_a_damaged_middle_is_skipped_and_reported(tmp_path, capsys, placeholder):
    clip = _h264(tmp_path / "b.mp4", _noise(200))
    size = clip.stat().st_size
    with open(clip, "r+b") as f:  # dd if=/dev/zero seek=40% count=20%
        f.seek(size * 4 // 10)
        f.write(bytes(size // 5))
    out = tmp_path / "o.mp4"
    assert main([str(clip), "-o", str(out), *placeholder]) == EXIT_TRUNCATED
    (line,) = _error_lines(capsys.readouterr().err)
    frames = count_frames(out)[0]
    assert frames > 120  # was: the ~80 frames before the damage, nothing after it
    lost = 200 - frames
    assert f"is damaged: {lost} frames could not be decoded" in line and "lost after frame" in line, line
    assert f"the outputs hold the {frames} frames read" in line


@pytest.mark.parametrize("side", [1, 2])
def test_tiny_frames_are_refused_before_any_work(tmp_path, capsys, placeholder, side):
    clip = tmp_path / "tiny.avi"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("rawvideo", rate=25)
        stream.width = stream.height = side
        stream.pix_fmt = "bgr24"
        for i in range(10):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((side, side, 3), 20 * i, np.uint8),
                                                                 format="bgr24")))
        container.mux(stream.encode())
    out = tmp_path / "o.mp4"
    assert main([str(clip), "-o", str(out), *placeholder]) == EXIT_ERROR  # was: a PyAV traceback, exit 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert f"{side}x{side} pixels: too small" in line
    assert not out.exists()  # was: an MP4 without its index


def test_a_variable_frame_rate_keeps_its_presentation_times(tmp_path, placeholder):
    times_ms = [40 * i for i in range(40)] + [1600 + 120 * i for i in range(40)]  # 25 FPS, then 8.3 FPS
    clip = _h264(tmp_path / "vfr.mp4", _noise(80), times_ms)
    out, json_path = tmp_path / "o.mp4", tmp_path / "o.json"
    assert main([str(clip), "-o", str(out), "--json", str(json_path), *placeholder]) == 0
    rows = json.loads(json_path.read_text())["frames"]
    assert [r["time_s"] for r in rows] == pytest.approx([t / 1000 for t in times_ms], abs=1e-3)  # was: i / 13.3
    with av.open(str(out)) as container:  # the output shows each frame when the input did
        shown = [float(f.time) for f in container.decode(video=0)]
    assert shown == pytest.approx([t / 1000 for t in times_ms], abs=2e-3)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def stalled_playlist(tmp_path):
    """A live HLS playlist (type EVENT, no #EXT-X-ENDLIST) whose encoder stopped
    after 10 one-second segments, served as `python3 -m http.server` does."""
    folder = tmp_path / "hls"
    folder.mkdir()
    with av.open(str(folder / "live.m3u8"), "w", format="hls",
                 options={"hls_time": "1", "hls_list_size": "0", "hls_playlist_type": "event"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.gop_size = 25
        for frame in _noise(250):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    playlist = folder / "live.m3u8"
    playlist.write_text(playlist.read_text().replace("#EXT-X-ENDLIST\n", ""))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/live.m3u8"
    server.shutdown()
    server.server_close()


def test_a_live_playlist_that_never_grows_gives_each_frame_once_and_ends(stalled_playlist, monkeypatch):
    monkeypatch.setattr(video_module, "STREAM_TIMEOUT_MS", 1000)  # a stalled read gives up after 1 s
    frames, started = [], time.monotonic()
    with VideoSource(stalled_playlist, reconnect_s=2) as source:
        assert source.is_live
        while (frame := source.read()) is not None and time.monotonic() - started < 30:
            frames.append(frame)
    seconds = time.monotonic() - started
    keys = [frame.tobytes() for frame in frames]
    assert len(keys) == len(set(keys)) and 0 < len(frames) <= 250, len(frames)  # was: replayed at each reopen
    assert seconds < 15  # was: never ended
