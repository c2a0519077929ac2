"""Writing: composition from source passages and the prompt / Markdown templates."""
