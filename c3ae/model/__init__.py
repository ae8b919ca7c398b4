"""Stage 4, the age model: the C3AE network, its calibration, its weights file and the batched runner (`AgeEngine`)."""
