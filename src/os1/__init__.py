"""OS1: an offline AI companion that listens, remembers and grows a personality of its own."""

__version__ = "0.1.0"
