"""What an http(s) address serves, asked before the video is opened, and the
download of the one kind of file that cannot be read as it arrives.

A server that states a length is serving a file, which ends at its end; a live
stream (an IP camera's MJPEG or MP4 feed) has none, and an HLS or DASH playlist's
length says nothing about the video (its container's duration does). An MP4 keeps its index
(`moov`) either before its media data (`mdat`, "faststart") or after it, the
usual layout; a reader can only reach an index at the end by seeking, which
needs a server that honours Range requests. When it does not, the file is
downloaded to a temporary file first, up to `DOWNLOAD_LIMIT` bytes; its name
carries the run's pid, so a later run removes the copies of runs that died.
"""
from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from c3ae.errors import SourceCut, SourceError

PROBE_AGENT = "c3ae-probe"  # the probe's User-Agent (test servers tell it from the reader's requests)
HEAD_BYTES = 64 * 1024  # read to find an MP4's first boxes; its index or media data start within this
DOWNLOAD_LIMIT = 2 * 1024**3  # largest file downloaded to a temporary file (2 GiB)
DOWNLOAD_MARGIN = 256 * 1024**2  # free space left on the temporary folder's disk after a download
CHUNK = 1024**2  # most bytes taken from one read (a read returns what has arrived)
STOP_POLL_S = 0.1  # how often a download looks for a stop request
TEMP_PREFIX = "c3ae-"  # temporary copies are c3ae-<pid>-<random>.mp4
PLAYLIST_TYPES = ("mpegurl", "dash+xml")  # HLS and DASH: the length is the playlist's, not the video's
PLAYLIST_SUFFIXES = (".m3u8", ".mpd")


@dataclass(frozen=True)
class HttpInfo:
    """The answer to a request for the whole body, from its headers and first bytes."""

    length: int | None  # bytes of the whole body; None when the server gives none (a live stream)
    ranges: bool  # the server honours Range requests, so a reader can seek
    content_type: str
    index_at_end: bool  # an MP4 whose index (moov) comes after its media data (mdat)
    playlist: bool  # HLS or DASH: live or not, only the playlist itself tells (its container's duration)

    @property
    def is_file(self) -> bool:
        """A body of known length that is the video itself (not an MJPEG feed or a playlist)."""
        return self.length is not None and not self.playlist and "multipart/" not in self.content_type

    @property
    def needs_download(self) -> bool:
        """An MP4 whose index can only be reached by seeking, on a server that cannot seek."""
        return self.is_file and not self.ranges and self.index_at_end


def _request(url: str) -> urllib.request.Request:
    """A GET for the whole body (Range from 0 asks whether the server can seek),
    with the address's user:password as Basic authentication, as FFmpeg sends it."""
    parts = urllib.parse.urlsplit(url)
    headers = {"User-Agent": PROBE_AGENT, "Range": "bytes=0-"}
    if parts.username is not None:
        login = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    return urllib.request.Request(urllib.parse.urlunsplit(parts), headers=headers)


def index_at_end(head: bytes) -> bool:
    """True when the first bytes of an MP4 show its media data (mdat) before its
    index (moov); False for an index at the front, or a head that is not an MP4."""
    offset = 0
    while offset + 8 <= len(head):
        size, kind = int.from_bytes(head[offset:offset + 4], "big"), head[offset + 4:offset + 8]
        if offset == 0 and kind != b"ftyp":
            return False
        if kind in (b"moov", b"mdat"):
            return kind == b"mdat"
        if size == 1 and offset + 16 <= len(head):  # a 64-bit size follows the type
            size = int.from_bytes(head[offset + 8:offset + 16], "big")
        if size < 8:
            return False
        offset += size
    return False


def probe(url: str, timeout_s: float) -> HttpInfo | None:
    """Ask the server what `url` is. None when it cannot be asked in a way its
    reader (FFmpeg) might still manage (TLS it rejects, a login the probe lacks, a
    method it refuses): the caller then goes by the container alone. A server
    that does not answer, or says the address does not exist, is a SourceError."""
    try:
        with urllib.request.urlopen(_request(url), timeout=timeout_s) as answer:
            content_type = answer.headers.get("Content-Type", "").lower()
            ranges = answer.status == 206 or answer.headers.get("Accept-Ranges", "").lower() == "bytes"
            total = answer.headers.get("Content-Range", "").rpartition("/")[2] if answer.status == 206 else \
                answer.headers.get("Content-Length")
            length = int(total) if total and total.isdigit() else None
            head = answer.read(HEAD_BYTES) if length is not None and "multipart/" not in content_type else b""
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise SourceError(f"Cannot open {url}: the server answers {exc.code} {exc.reason}") from exc
        return None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (ConnectionRefusedError, TimeoutError, socket.gaierror)):
            raise SourceError(f"Cannot open {url}: no answer ({reason})") from exc
        return None
    playlist = any(kind in content_type for kind in PLAYLIST_TYPES) or \
        urllib.parse.urlsplit(url).path.lower().endswith(PLAYLIST_SUFFIXES)
    return HttpInfo(length, ranges, content_type, index_at_end(head), playlist)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def remove_stale_downloads(folder: Path) -> None:
    """Temporary copies whose run died without removing them (SIGKILL, power cut):
    their names carry the pid of the run, which is gone."""
    for path in folder.glob(f"{TEMP_PREFIX}*-*.mp4"):
        pid = path.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _unblock(answer: object) -> None:
    """Shut down the socket under a response, so a read that waits on it in
    another thread returns at once (urllib has no public way to reach it)."""
    sock = getattr(getattr(getattr(answer, "fp", None), "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Transfer:
    """The body copied into `out` on a helper thread, so the caller can answer a
    stop within STOP_POLL_S while a slow or stalled server holds a read;
    `done` counts every byte written (a stalled transfer reports them too)."""

    def __init__(self, answer, out, length: int) -> None:
        self.done = 0
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._answer, self._out, self._length = answer, out, length
        threading.Thread(target=self._run, name="download", daemon=True).start()

    def _run(self) -> None:
        try:
            while self.done < self._length and (chunk := self._answer.read1(CHUNK)):
                self._out.write(chunk)
                self.done += len(chunk)
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc
        finally:
            self.finished.set()


def download(url: str, length: int, timeout_s: float, stop: Callable[[], bool] | None = None,
             notice: Callable[[str], None] | None = None) -> Path:
    """Fetch `url` (`length` bytes) into a temporary file and return its path (the
    caller removes it). Refused with the cause and the fix when it is over
    `DOWNLOAD_LIMIT` or the disk lacks room; `stop` ends it within STOP_POLL_S;
    a connection cut or stalled part-way is a SourceCut."""
    folder = Path(tempfile.gettempdir())
    why = "the server cannot seek (no Range support) and the MP4's index (moov) is at its end"
    fix = (f"download it first (curl -o clip.mp4 {url}) and annotate the file, or serve it with Range "
           f"support, or move its index to the front (ffmpeg -i IN.mp4 -c copy -movflags +faststart OUT.mp4)")
    if length > DOWNLOAD_LIMIT:
        raise SourceError(f"Cannot read {url}: {why}, and at {length / 1e9:.1f} GB it is over the "
                          f"{DOWNLOAD_LIMIT / 1e9:.1f} GB read through a temporary file; {fix}")
    remove_stale_downloads(folder)
    if shutil.disk_usage(folder).free < length + DOWNLOAD_MARGIN:
        raise SourceError(f"Cannot read {url}: {why}, and {folder} has no room for its {length / 1e6:.0f} MB; "
                          f"free some space or set TMPDIR to a roomier folder, or {fix}")
    if notice is not None:
        notice(f"{url}: {why}; downloading its {length / 1e6:.1f} MB to a temporary file first")
    handle, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".mp4", dir=folder)
    path, start = Path(name), time.monotonic()
    try:
        with open(handle, "wb") as out:
            try:
                answer = urllib.request.urlopen(_request(url), timeout=timeout_s)
            except (urllib.error.URLError, OSError) as exc:
                raise SourceError(f"Cannot read {url}: the download could not start ({exc})") from exc
            with answer:
                transfer = _Transfer(answer, out, length)
                while True:
                    if stop is not None and stop():
                        _unblock(answer)
                        transfer.finished.wait(timeout_s)
                        raise SourceError(f"Stopped while downloading {url} ({transfer.done / 1e6:.1f} of "
                                          f"{length / 1e6:.1f} MB)")
                    if transfer.finished.wait(STOP_POLL_S):
                        break
        if transfer.done != length:
            cause = f" ({transfer.error})" if transfer.error is not None else ""
            raise SourceCut(f"Cannot read {url}: the connection was cut after {transfer.done} of its {length} "
                            f"bytes{cause}; nothing was annotated")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if notice is not None:
        notice(f"{url}: downloaded in {time.monotonic() - start:.1f} s")
    return path
