"""The desktop app: a Qt window around `c3ae.pipeline.FramePipeline`.

Frames flow source -> worker thread (detect, crop, infer, track, draw) ->
signals -> window. The GUI thread only paints and reacts; it never waits on
capture, inference or disk.
"""
