"""AgenticAI Lab's media library: TTS, ASR, captions, images, video and audio assembly.

A library with no LLM and no chat in it: configuration comes in as plain arguments, and
heavy backends are imported only when an engine is built. Import the submodules you need
(``media.tts``, ``media.asr``, ``media.captions`` ...); errors live in ``media.errors``.
"""
