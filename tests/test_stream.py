"""Network streams: a clip served over HTTP from 127.0.0.1, dropped part-way."""
from __future__ import annotations

import contextlib
import socket
import threading
import time

import cv2
import numpy as np
from streaming import ClipServer
from synth import count_frames

import c3ae.source.video
from c3ae.cli.annotate import main
from c3ae.faces import Faces
from c3ae.results import FrameResult
from c3ae.sink.writer import ResultsSink
from c3ae.source.video import VideoSource, is_stream, parse_source


def _fragmented_clip(path, n=60, size=(320, 240)) -> bytes:
    """A fragmented MP4 (what live MP4 streams send): playable from any fragment on."""
    with ResultsSink(path, 30.0, size) as sink:
        for i in range(n):
            sink.write(FrameResult(np.full((size[1], size[0], 3), (i * 7) % 250, np.uint8), Faces.empty(), i, i / 30))
    return path.read_bytes()


def _cut_in_second_fragment(body: bytes) -> int:
    """A byte offset inside the second fragment: the first (30 frames) arrives whole."""
    second = body.find(b"moof", body.find(b"moof") + 1) - 4
    assert second > 0
    return second + (len(body) - second) // 2


def test_urls_and_camera_names_are_sources(tmp_path):
    assert is_stream("rtsp://10.0.0.5:554/stream1") and is_stream("HTTPS://cam.local/video")
    assert not is_stream("clip.mp4") and not is_stream("file:///tmp/x.mp4")
    cameras = lambda: {"Integrated Camera: Integrated C": 0, "USB Video Device": 2}  # noqa: E731
    assert parse_source("usb video", cameras) == 2
    assert parse_source("Integrated Camera: Integrated C", cameras) == 0
    assert parse_source("1", cameras) == 1
    assert parse_source("rtsp://host/usb video", cameras) == "rtsp://host/usb video"
    assert parse_source("e", cameras) == "e"  # ambiguous: left as a (missing) path


def test_dropped_http_stream_is_reopened_and_the_gap_reported(tmp_path):
    body = _fragmented_clip(tmp_path / "clip.mp4")
    notices: list[str] = []
    with ClipServer(body, drops=1, cut_at=_cut_in_second_fragment(body), whole=1) as server:
        with VideoSource(server.url, reconnect_s=1.0, on_notice=notices.append) as source:
            assert source.is_stream and source.is_live and source.frame_count == 0
            frames = 0
            while source.read() is not None:
                frames += 1
    first = source.gaps[0].after_frame
    assert 30 <= first < 60 and frames == first + 60  # the cut part, then the whole clip again
    assert len(source.gaps) == 1 and server.requests >= 3  # dropped, whole, then gone for good
    assert server.probes == 1  # asked once what it is; a reconnection does not ask again
    assert any("dropped after frame" in n for n in notices) and any("gap" in n for n in notices)
    assert "did not come back" in notices[-1]


def test_released_stream_ends_without_reporting_a_drop(tmp_path):
    """Stopping (--duration, Ctrl+C) releases the source under the reader: that is
    not the stream dropping, so no reconnection and no notice of one."""
    body = _fragmented_clip(tmp_path / "clip.mp4")
    notices: list[str] = []
    with ClipServer(body, whole=5) as server, VideoSource(server.url, on_notice=notices.append) as source:
        assert source.read() is not None and source.read() is not None
        source.release()
        assert source.read() is None
    assert notices == [] and source.gaps == [] and server.requests == 1


def test_annotate_reads_a_dropping_stream_frame_by_frame_up_to_duration(tmp_path, capsys):

    body = _fragmented_clip(tmp_path / "clip.mp4")
    out = tmp_path / "out.mp4"
    with ClipServer(body, drops=1, cut_at=_cut_in_second_fragment(body), whole=1) as server:
        code = main([server.url, "-o", str(out), "--duration", "2.5", "--reconnect", "1", "--detector", "short",
                     "--allow-untrained"])
    assert code == 0
    frames = count_frames(out)[0]
    assert frames == 75  # the part before the drop, then the clip again; no frames invented for the gap
    printed = capsys.readouterr()
    assert "(1 stream gaps)" in printed.out and "until stopped" not in printed.err


def test_annotate_says_a_live_stream_without_duration_runs_until_stopped(tmp_path, capsys):
    body = _fragmented_clip(tmp_path / "clip.mp4", n=30)
    with ClipServer(body) as server:  # no length: live; it ends for good after one pass
        code = main([server.url, "-o", str(tmp_path / "out.mp4"), "--reconnect", "0.5", "--detector", "short",
                     "--allow-untrained"])
    assert code == 0 and count_frames(tmp_path / "out.mp4")[0] == 30
    assert "is live: it runs until stopped" in capsys.readouterr().err


def _push_rtsp(url: str, sessions: list[int], stop: threading.Event, size=(320, 240)) -> None:
    """Publish H.264 over RTSP (TCP) to `url`: one session per entry of `sessions`
    (its frame count), reconnecting for each, as a camera that restarts would;
    `stop` ends it (the test's teardown), a reader that went away too."""
    import av

    for frames in sessions:
        for _ in range(100):  # until the listener is (again) up
            if stop.is_set():
                return
            try:
                out = av.open(url, "w", format="rtsp", options={"rtsp_transport": "tcp"})
                stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast", "tune": "zerolatency"})
                stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
                out.start_encoding()
                break
            except av.error.FFmpegError:
                time.sleep(0.05)
        else:
            return
        try:
            for i in range(frames):
                if stop.is_set():
                    return
                frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 3 * i, np.uint8), format="bgr24")
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
                time.sleep(0.01)
            for packet in stream.encode():
                out.mux(packet)
        except (av.error.FFmpegError, OSError):  # the reader went away
            return
        finally:
            with contextlib.suppress(av.error.FFmpegError, OSError):
                out.close()


def test_rtsp_stream_that_restarts_is_read_again(monkeypatch):
    """No RTSP server can be installed here, so the roles are swapped: our reader
    listens (FFmpeg's rtsp_flags=listen) and the test publishes to it over TCP.
    This covers OpenCV's RTSP/RTP demuxing and our reconnection, not the
    DESCRIBE/SETUP/PLAY handshake a reader has with a camera's server."""
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_flags;listen|rtsp_transport;tcp")
    monkeypatch.setattr(c3ae.source.video, "STREAM_TIMEOUT_MS", 2000)  # the last listen gives up sooner
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"rtsp://127.0.0.1:{probe.getsockname()[1]}/live"
    stop = threading.Event()
    publisher = threading.Thread(target=_push_rtsp, args=(url, [30, 20], stop), name="rtsp-publisher", daemon=True)
    publisher.start()
    notices: list[str] = []
    try:
        with VideoSource(url, reconnect_s=0.5, on_notice=notices.append) as source:
            assert source.is_stream and source.size == (320, 240)
            frames = 0
            while source.read() is not None:
                frames += 1
    finally:
        stop.set()
        publisher.join(10)
    assert not publisher.is_alive()
    assert frames == 50 and len(source.gaps) == 1 and source.gaps[0].after_frame == 30
    assert "did not come back" in notices[-1]


def test_mjpeg_over_http_is_read_frame_by_frame_and_reconnected():
    """What most IP cameras serve at http://…/video: JPEGs in a multipart response;
    live, so its end is a drop: it is read again, then the 404 ends it."""
    parts = []
    for i in range(20):
        jpeg = cv2.imencode(".jpg", np.full((240, 320, 3), 10 * i, np.uint8))[1].tobytes()
        parts.append(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpeg), jpeg))
    with ClipServer(b"".join(parts), "multipart/x-mixed-replace; boundary=frame", length=True, whole=2) as server:
        with VideoSource(server.url, reconnect_s=0.2) as source:
            assert source.is_live
            frames = []
            while (frame := source.read()) is not None:
                frames.append(int(frame[0, 0, 0]))
    assert len(frames) == 40 and frames[:20] == frames[20:] == sorted(frames[:20]) and source.size == (320, 240)
    assert len(source.gaps) == 1 and source.gaps[0].after_frame == 20
