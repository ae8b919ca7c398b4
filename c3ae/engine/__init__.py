"""Stage 4, the age model: the C3AE network, its two-point code, calibration, weights file and batched runner."""
