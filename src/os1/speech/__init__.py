"""The voice seam: audio utilities, VAD, STT and TTS base classes, engines chosen by spec (`piper`, `whisper`…).

Kept free of imports so `os1.speech.hooks` (and the plugin manager) load without numpy or any voice extra:
import from the submodules, e.g. `from os1.speech.registry import get_stt`.
"""
