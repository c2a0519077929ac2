"""Rendering: media tasks sent to background workers (or run in-process with no broker)."""
