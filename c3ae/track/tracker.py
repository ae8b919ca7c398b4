"""One person, one track: identity of faces across frames, and their fused age.

Per frame (`FaceTracker.update`):

1. Shot cuts (`c3ae.cuts`: the verdict that comes with the frame, judged once
   by the pipeline's cut detector) end every track, so no
   detection is ever matched to a person from before the cut. The ended
   tracks are kept for one frame: if the "cut" was a camera flash, they
   continue and the flash frame's new tracks are dropped.
2. Each track's box is predicted by a constant-velocity Kalman filter on
   centre and size (ByteTrack's noise model: proportional to the box size).
3. Two-stage association, after ByteTrack: confident detections (score >=
   `high_score`) are matched first, to every track, on IoU with a centroid
   fallback for fast moves and for tracks that coasted through a miss; then
   the tracks still unmatched that were seen last frame take the weak
   detections (a half-covered face) on IoU alone. A cheap appearance check
   (hue-saturation histogram of the face crop) scales every match and vetoes
   clearly different people, so two crossing faces do not swap.
4. Unmatched confident detections start tracks; a track lives on through up to
   `max_missed` frames without a detection (a hand, a microphone) and is shown
   as carried (`missed` > 0) once it has been seen `confirm_hits` times, until
   its predicted box has mostly left the frame.
5. Each track fuses its age with `c3ae.track.fusion.AgeFusion` (the quality-weighted
   median of its last second of frames, calibrated band, a shown age that follows
   it within `HOLD`); `summaries()` gives one row per person, with the same age and band.

For seeking in files, `snapshot()`/`restore()` copy the whole state, so a
player that steps back replays from exactly the state of the first pass
(`c3ae.pipeline.SeekHistory`, which keeps the cut detector's state beside it).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

from c3ae.cuts import Shot
from c3ae.faces import Faces, box_overlaps
from c3ae.track.fusion import AgeFusion
from c3ae.track.identity import appearance, similarity
from c3ae.track.quality import face_quality, frame_sharpness, sharpness, yaw
from c3ae.track.uncertainty import fitted_model, frame_factors

_STD_POS, _STD_VEL = 1 / 20, 1 / 160  # ByteTrack's Kalman noise, per box size
SHARPNESS_EVERY = 10  # frames between measures of the video's own sharpness (1-2 ms; it changes slowly)


def _outside(box: np.ndarray, frame_shape: tuple[int, ...]) -> bool:
    """Whether more than half of the box lies outside the frame (a face that walked out)."""
    h, w = frame_shape[:2]
    inside = max(0.0, min(box[2], w) - max(box[0], 0)) * max(0.0, min(box[3], h) - max(box[1], 0))
    return inside < 0.5 * max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-6)


class _Kalman:
    """Constant velocity on (cx, cy, w, h); noise scales with the box, so a
    big close-up and a small face in a crowd are filtered alike."""

    _F = np.eye(8) + np.eye(8, k=4)
    _DIAG = np.diag_indices(8)
    _DIAG4 = np.diag_indices(4)
    _WH = [2, 3, 2, 3, 2, 3, 2, 3]  # each state's box side: w, h for x, y, w, h and their velocities
    _STD = np.array([_STD_POS] * 4 + [_STD_VEL] * 4)  # process noise per box side

    def __init__(self, box: np.ndarray) -> None:
        z = self._measure(box)
        self.x = np.concatenate([z, np.zeros(4)])
        wh = np.tile(z[2:], 2)
        self.P = np.diag(np.concatenate([2 * _STD_POS * wh, 10 * _STD_VEL * wh]) ** 2)

    @staticmethod
    def _measure(box: np.ndarray) -> np.ndarray:
        b = np.asarray(box, np.float64)
        return np.concatenate([(b[:2] + b[2:]) / 2, np.maximum(b[2:] - b[:2], 1.0)])

    @property
    def box(self) -> np.ndarray:
        c, half = self.x[:2], np.maximum(self.x[2:4], 1.0) / 2
        return np.concatenate([c - half, c + half]).astype(np.float32)

    def predict(self, coasting: bool) -> None:
        if coasting:  # unseen: keep drifting along, but stop growing or shrinking
            self.x[6:] = 0.0
        q = (self._STD * self.x[self._WH]) ** 2
        self.x = self._F @ self.x
        self.P = self._F @ self.P @ self._F.T
        self.P[self._DIAG] += q

    def update(self, box: np.ndarray) -> None:
        z = self._measure(box)
        s = self.P[:4, :4].copy()
        s[self._DIAG4] += (_STD_POS * self.x[self._WH[:4]]) ** 2  # H P H' + R
        k = np.linalg.solve(s, self.P[:4]).T  # P H' S^-1 (H picks the first four rows)
        self.x = self.x + k @ (z - self.x[:4])
        self.P = self.P - k @ s @ k.T


@dataclass(frozen=True)
class TrackSummary:
    """One person (track) over its whole life, for the per-person table."""

    track_id: int
    first_frame: int
    last_frame: int  # last frame it was detected in
    frames: int  # frames it was detected in
    age: float
    age_low: float
    age_high: float
    quality: float  # quality of the evidence the age rests on (`AgeFusion.quality`)
    uncertain: bool = False  # poor evidence: the age is shown with "?" and without its band
    dist: np.ndarray | None = field(default=None, compare=False)  # the fused 12-bin distribution

    def seconds(self, fps: float) -> float:
        return (self.last_frame - self.first_frame + 1) / fps


@dataclass
class _Track:
    track_id: int
    kalman: _Kalman
    keypoints: np.ndarray  # relative to the box centre, so a carried track's move them along
    score: float
    fusion: AgeFusion
    first_frame: int
    last_frame: int
    look: np.ndarray | None = None
    hits: int = 0
    missed: int = 0

    def summary(self) -> TrackSummary:
        f = self.fusion
        return TrackSummary(self.track_id, self.first_frame, self.last_frame, self.hits, f.age, *f.fused_band(),
                            f.quality, f.uncertain, f.dist)


@dataclass(frozen=True)
class TrackerState:
    """An opaque, self-contained copy of a tracker's state (see `FaceTracker.snapshot`)."""

    tracks: list
    finished: list
    next_id: int
    frame_index: int
    cut: bool
    held: tuple | None
    frame_sharp: tuple[float | None, int]  # the video's sharpness and the frame it was measured at


class FaceTracker:
    """`update(faces, frame, crops)` -> the detected faces with track IDs, fused
    ages and bands, plus the confirmed tracks carried through a miss (`missed` > 0).

    `smoothing` is the per-frame decay of the chart's recent distribution (the
    age itself fuses the whole track);
    `high_score` the detector score a face needs to start or re-find a track.
    """

    def __init__(self, *, max_missed: int = 15, smoothing: float = 0.85, high_score: float = 0.5,
                 min_frames: int = 5, confirm_hits: int = 3, iou_threshold: float = 0.2,
                 min_appearance: float = 0.4) -> None:
        self.max_missed = max_missed
        self.high_score = high_score
        self.min_frames = min_frames
        self.confirm_hits = confirm_hits
        self.iou_threshold = iou_threshold
        self.min_appearance = min_appearance
        self._smoothing = smoothing
        self.reset()

    @property
    def smoothing(self) -> float:
        return self._smoothing

    @smoothing.setter
    def smoothing(self, value: float) -> None:
        self._smoothing = float(value)
        for track in self._tracks:
            track.fusion.decay = self._smoothing

    def reset(self) -> None:
        """Forget everything (a new source)."""
        self._tracks: list[_Track] = []
        self._finished: list[TrackSummary] = []
        self._next_id = 1
        self.frame_index = -1
        self.cut = False  # whether the last frame started a new shot
        self._held: tuple[list[_Track], int] | None = None  # tracks ended by the last frame's cut
        self.last_kept = np.zeros(0, np.int64)
        self.last_factors = np.zeros((0, 0))
        self._frame_sharp, self._sharp_at = None, -SHARPNESS_EVERY  # the video's sharpness, and when measured

    # state for seeking -------------------------------------------------------
    def snapshot(self) -> TrackerState:
        """A copy of the whole state after the last `update` (about 2 kB per live track)."""
        return TrackerState(copy.deepcopy(self._tracks), list(self._finished), self._next_id,
                            self.frame_index, self.cut, copy.deepcopy(self._held),
                            (self._frame_sharp, self._sharp_at))

    def restore(self, state: TrackerState) -> None:
        """Continue exactly as after the frame `state` was taken at (it stays reusable)."""
        self._tracks = copy.deepcopy(state.tracks)
        self._finished = list(state.finished)
        self._next_id, self.frame_index, self.cut = state.next_id, state.frame_index, state.cut
        self._held = copy.deepcopy(state.held)
        self._frame_sharp, self._sharp_at = state.frame_sharp
        self.smoothing = self._smoothing

    def summaries(self) -> list[TrackSummary]:
        """One row per person seen so far: ended and live tracks that got an age (>= `min_frames`)."""
        live = [t.summary() for t in self._tracks if t.hits >= self.min_frames]
        return sorted(self._finished + live, key=lambda s: s.track_id)

    # -------------------------------------------------------------------------
    def update(self, faces: Faces, frame: np.ndarray | None = None, crops: torch.Tensor | None = None,
               frame_index: int | None = None, shot: Shot | None = None) -> Faces:
        """Track one frame's detections. `frame` gives the border factor and the video's
        sharpness, `crops` (from `face_crops`) the faces' sharpness and appearance,
        `shot` the frame's cut verdict (`ShotCutDetector.judge`; none: no cut)."""
        self.frame_index = self.frame_index + 1 if frame_index is None else frame_index
        self.cut = bool(shot is not None and shot.cut)
        flash = shot is not None and shot.flash
        held, self._held = self._held, None
        if self.cut:
            self._held = (self._tracks, len(self._finished))
            self._end(list(range(len(self._tracks))))
        elif held is not None and flash:  # it was a flash: the old shot goes on
            self._tracks, finished = held
            del self._finished[finished:]
            for track in self._tracks:  # they missed the flash frame
                track.kalman.predict(coasting=True)
                track.missed += 1
        for track in self._tracks:
            track.kalman.predict(coasting=track.missed > 0)
        sharp = sharpness(crops, faces.sizes) if crops is not None and len(crops) == len(faces) else None
        turn = yaw(faces)  # read by both the quality and the error model
        quality = face_quality(faces, None if frame is None else frame.shape, sharp=sharp, turn=turn)
        if frame is not None and len(faces) and (self.cut or self.frame_index - self._sharp_at >= SHARPNESS_EVERY):
            self._frame_sharp, self._sharp_at = frame_sharpness(frame), self.frame_index
        factors = frame_factors(faces, sharp, self._frame_sharp if frame is not None else None, turn)
        errors = fitted_model().frame_error(factors)
        looks = appearance(crops) if crops is not None and len(crops) == len(faces) and len(faces) else None

        strong = np.flatnonzero(faces.scores >= self.high_score)
        weak = np.flatnonzero(faces.scores < self.high_score)
        all_tracks = list(range(len(self._tracks)))
        pairs = self._associate(all_tracks, strong, faces, looks, fallback=True)
        taken = {t for t, _ in pairs}
        seen = [t for t in all_tracks if self._tracks[t].missed == 0 and t not in taken]
        pairs += self._associate(seen, weak, faces, looks, fallback=False)

        det_track = {d: t for t, d in pairs}
        for t, d in pairs:
            self._observe(self._tracks[t], faces, d, quality[d], errors[d], looks)
        new_index = {}
        for d in strong:
            if d not in det_track:
                new_index[d] = len(self._tracks)
                self._tracks.append(self._new_track(faces, d))
                self._observe(self._tracks[-1], faces, d, quality[d], errors[d], looks)
        det_track.update(new_index)

        matched = set(det_track.values())
        gone = []
        for t, track in enumerate(self._tracks):
            if t in matched:
                continue
            track.missed += 1
            if (track.missed > self.max_missed or track.hits < self.confirm_hits
                    or (frame is not None and _outside(track.kalman.box, frame.shape))):
                gone.append(t)
        kept = sorted(det_track)  # detections with a track, in detection order
        self.last_kept = np.array(kept, np.int64)  # the output's detected rows, as rows of `faces`
        self.last_factors = factors[kept]  # the detected rows' factors, for fitting `ErrorModel`
        order = [det_track[d] for d in kept]
        carried = [t for t in range(len(self._tracks)) if t not in matched and t not in gone]
        detected = [self._as_faces(faces[np.array(kept, int)], order, quality[kept])] if kept else []
        out = Faces.concatenate(detected + [self._as_faces(None, carried, None)])
        self._end(gone)
        return out

    def _associate(self, tracks: list[int], dets: np.ndarray, faces: Faces, looks: np.ndarray | None,
                   fallback: bool) -> list[tuple[int, int]]:
        """Greedy best-first matching of tracks to detections; (track, det) index pairs."""
        if not tracks or not len(dets):
            return []
        predicted = np.stack([self._tracks[t].kalman.box for t in tracks]).astype(np.float64)
        boxes = faces.boxes[dets].astype(np.float64)
        iou = box_overlaps(predicted, boxes)[0]
        sim = np.where(iou >= self.iou_threshold, 1.0 + iou, 0.0)
        # appearance: 1 where either side is unknown (no crops, a crop too dark)
        looked = np.ones_like(sim)
        if looks is not None:
            track_looks = np.stack([self._tracks[t].look if self._tracks[t].look is not None
                                    else np.zeros(looks.shape[1], np.float32) for t in tracks])
            looked = similarity(track_looks, looks[dets])
            known = (track_looks.sum(axis=1)[:, None] > 0) & (looks[dets].sum(axis=1)[None, :] > 0)
        else:
            known = np.zeros(sim.shape, bool)
        if fallback:  # a fast move or a coasted prediction can leave little overlap
            size = np.sqrt(np.prod(np.clip(predicted[:, 2:] - predicted[:, :2], 1, None), axis=1))
            ratio = faces.sizes[dets][None, :] / size[:, None]
            centre = np.linalg.norm((predicted[:, None, :2] + predicted[:, None, 2:]) / 2
                                    - (boxes[None, :, :2] + boxes[None, :, 2:]) / 2, axis=2) / size[:, None]
            missed = np.array([self._tracks[t].missed for t in tracks])[:, None]
            reach = 1.0 + 0.1 * np.minimum(missed, 10)  # a longer coast, a wider search
            # a coasted track re-found off its prediction must also look the same
            near = (centre < reach) & (ratio > 0.67) & (ratio < 1.5) & ((missed == 0) | known)
            sim = np.where(sim > 0, sim, np.where(near, 0.99 * (1.0 - centre / reach), 0.0))
        sim = np.where(looked >= self.min_appearance, sim * (0.4 + 0.6 * looked), 0.0)
        pairs = []
        while sim.size:
            i, j = np.unravel_index(np.argmax(sim), sim.shape)
            if sim[i, j] <= 0:
                break
            pairs.append((tracks[i], int(dets[j])))
            sim[i, :] = 0
            sim[:, j] = 0
        return pairs

    def _new_track(self, faces: Faces, d: int) -> _Track:
        track = _Track(self._next_id, _Kalman(faces.boxes[d]), np.zeros((6, 2), np.float32), float(faces.scores[d]),
                       AgeFusion(decay=self._smoothing, min_frames=self.min_frames),
                       self.frame_index, self.frame_index)
        self._next_id += 1
        return track

    def _observe(self, track: _Track, faces: Faces, d: int, quality: float, error: float,
                 looks: np.ndarray | None) -> None:
        if track.hits:  # a new track's filter already starts at this box
            track.kalman.update(faces.boxes[d])
        box = faces.boxes[d]
        track.keypoints = faces.keypoints[d] - (box[:2] + box[2:]) / 2
        track.score, track.missed, track.last_frame = float(faces.scores[d]), 0, self.frame_index
        track.hits += 1
        track.fusion.add(faces.dists[d], quality, float(faces.ages[d]), float(error), float(faces.sizes[d]))
        if looks is not None and looks[d].sum() > 0:  # slowly follows lighting changes
            look = looks[d]
            track.look = look if track.look is None else 0.8 * track.look + 0.2 * look

    def _end(self, indices: list[int]) -> None:
        """Drop these tracks, keeping the summary of each that got an age."""
        for t in indices:
            if self._tracks[t].hits >= self.min_frames:
                self._finished.append(self._tracks[t].summary())
        drop = set(indices)
        self._tracks = [t for i, t in enumerate(self._tracks) if i not in drop]

    def _as_faces(self, detected: Faces | None, indices: list[int], quality: np.ndarray | None) -> Faces:
        """Faces for these tracks: the detections themselves, or carried boxes when `detected` is None."""
        if not indices:
            return Faces.empty()
        tracks = [self._tracks[t] for t in indices]
        fused = {
            "track_ids": np.array([t.track_id for t in tracks], np.int64),
            "ages_smoothed": np.array([t.fusion.shown for t in tracks], np.float32),
            "ages_low": np.array([t.fusion.low for t in tracks], np.float32),
            "ages_high": np.array([t.fusion.high for t in tracks], np.float32),
            "dists_smoothed": np.stack([t.fusion.recent for t in tracks]).astype(np.float32),
            "uncertain": np.array([t.fusion.uncertain for t in tracks], bool),
        }
        if detected is not None:
            return detected.replace(quality=np.asarray(quality, np.float32), **fused)
        boxes = np.stack([t.kalman.box for t in tracks])
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        return Faces(boxes=boxes, keypoints=np.stack([t.keypoints for t in tracks]) + centres[:, None],
                     scores=np.array([t.score for t in tracks]),
                     missed=np.array([t.missed for t in tracks], np.int32), **fused)
