"""The web companion: a Starlette app with the WebSocket protocol (`protocol.py`) and an OpenAI-compatible API."""
