"""Stage 3, the three C3AE context crops per face: one crop function for training and live video."""
