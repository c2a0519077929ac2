"""One module per pipeline step. Each exposes ``run(state, svc) -> partial update``."""
