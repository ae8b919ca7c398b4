"""The `tiles` option: its values, its check, and what the pipeline builds from it."""
import numpy as np
import pytest

from c3ae.cli.annotate import build_parser
from c3ae.cli.job import options_from
from c3ae.detect.blazeface import FaceDetector
from c3ae.detect.tiles import TiledDetector
from c3ae.errors import OptionsError
from c3ae.model.runner import AgeEngine
from c3ae.options import TILES, TILES_MIN_SIDE, PipelineOptions
from c3ae.pipeline import FramePipeline


def test_tiles_values_and_their_check():
    assert TILES == ("auto", "on", "off") and PipelineOptions().tiles == "auto"
    assert TILES_MIN_SIDE == {"auto": 1280, "on": 0}
    with pytest.raises(OptionsError, match="--tiles must be one of auto, on, off"):
        PipelineOptions(tiles="sometimes")


def test_annotate_flag_reaches_the_options():
    args = build_parser().parse_args(["in.mp4", "-o", "out.mp4", "--tiles", "on"])
    assert options_from(args).tiles == "on"
    assert options_from(build_parser().parse_args(["in.mp4", "-o", "out.mp4"])).tiles == "auto"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["in.mp4", "-o", "out.mp4", "--tiles", "maybe"])


@pytest.fixture(scope="module")
def engine():
    return AgeEngine(None, device="cpu", warmup=False)


@pytest.mark.parametrize("tiles, tiled, min_side", [("auto", True, 1280), ("on", True, 0), ("off", False, None)])
def test_pipeline_builds_the_detector_the_option_asks_for(engine, tiles, tiled, min_side):
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu", tiles=tiles), engine=engine)
    try:
        assert isinstance(pipeline.detector, TiledDetector) is tiled
        assert pipeline.detector.model == "full"
        if tiled:
            assert pipeline.detector.min_side == min_side and isinstance(pipeline.detector.base, FaceDetector)
        pipeline.min_score = 0.6  # live options reach the tiles too
        assert pipeline.detector.min_score == pytest.approx(0.3)
        if tiled:  # the tiles' detector, made later, starts from the live thresholds
            pipeline.min_size = 12
            assert [(t.min_score, t.min_size) for t in pipeline.detector.tilers] == [(pytest.approx(0.3), 12)] * len(
                pipeline.detector.tilers)
    finally:
        pipeline.close()


def test_auto_leaves_small_frames_untiled(engine):
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu"), engine=engine)
    try:
        calls = []
        pipeline.detector.detect_tiles = lambda frame: calls.append(frame)
        pipeline.process(np.zeros((360, 640, 3), np.uint8))
        assert calls == []
        assert pipeline.detector._tilers == []  # nor loaded its detectors (start-up)
    finally:
        pipeline.close()
