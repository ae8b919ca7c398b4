"""Stage 7, where results go: crash-safe video writing and the per-frame and per-person tables."""
