"""The canonical revenue schema and the build (staging → intermediate → marts)."""
