"""Stage 6, what is drawn on a frame: labels, bands and charts (overlay) and face blurring (privacy)."""
