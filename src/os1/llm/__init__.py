"""The LLM seam: one base class, backends chosen by a spec string such as `openai:llama3`."""

from os1.llm.base import LLM, Message
from os1.llm.registry import UnavailableModel, available_models, get_model, open_model

__all__ = ["LLM", "Message", "UnavailableModel", "available_models", "get_model", "open_model"]
