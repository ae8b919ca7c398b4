"""Stage 1, where frames come from: video files, cameras and network streams."""
