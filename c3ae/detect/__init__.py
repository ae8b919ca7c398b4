"""Stage 2, finding faces: MediaPipe BlazeFace, tiled detection for small faces, the detector's model files."""
