"""Causal-LM fine-tuning backends: ``full``, ``lora`` and ``qlora``.

``config`` and ``presets`` import without torch (spec parsing, listing backends); the
estimator modules (``estimator``, ``loading``, ``training``, ``scoring``...) import torch,
transformers and peft lazily, when a backend is built.
"""
