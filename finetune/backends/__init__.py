"""Backends: config dataclasses + estimators, registered in one place (``registry.py``)."""

from finetune.backends.registry import available_backends, load_backend, make_backend, parse_backend_spec

__all__ = ["available_backends", "load_backend", "make_backend", "parse_backend_spec"]
