"""Find, check and load a causal LM and its tokenizer (hub id, local directory or GGUF file).

Every failure a user can fix becomes a :class:`ModelError` before any slow call: a missing
path, a hub id while ``HF_HUB_OFFLINE`` is set and the model is not in the local cache.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labelcore.errors import ConfigError, ModelError, require

EXTRA = "llm"


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are: ``name`` (a directory or hub id) and an optional GGUF file in it."""

    name: str
    gguf_file: str = ""
    is_local: bool = True

    def kwargs(self) -> dict:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or the older ``TRANSFORMERS_OFFLINE``) is set."""
    return any(
        os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or model.count("/") > 1 or model.endswith(".gguf") or "\\" in model


def resolve_source(model: str, gguf_file: str = "") -> ModelSource:
    """Check that ``model`` can be loaded without network calls that would only fail slowly."""
    path = Path(model).expanduser()
    if path.suffix == ".gguf" or path.exists():
        if not path.exists():
            raise ModelError(f"model file {path} does not exist")
        if path.is_file():
            if path.suffix != ".gguf":
                raise ModelError(f"model {path} is a file but not a .gguf; give a model directory or a .gguf file")
            return ModelSource(str(path.parent), path.name)
        if gguf_file and not (path / gguf_file).is_file():
            raise ModelError(f"GGUF file {gguf_file!r} not found in {path}")
        if not gguf_file and not (path / "config.json").is_file():
            raise ModelError(f"{path} has no config.json: not a Hugging Face model directory")
        return ModelSource(str(path), gguf_file)
    if _looks_like_path(model):
        raise ModelError(f"model path {model} does not exist")
    if hub_offline():
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(model, gguf_file or "config.json"), str):
            raise ModelError(
                f"model {model!r} is not a local path and not in the Hugging Face cache, and "
                "HF_HUB_OFFLINE=1 forbids downloading it; give a local directory or .gguf file"
            )
    return ModelSource(model, gguf_file, is_local=False)


def resolve_device(name: str) -> str:
    """``auto`` -> cuda, else mps, else cpu; an explicit device must be available."""
    import torch

    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if name == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if available[d])
    if not available[name]:
        raise ConfigError(f"device={name} is not available on this machine")
    return name


def resolve_precision(precision: str, device: str) -> str:
    """``auto`` -> bf16 on a CUDA device that supports it, else fp32 (CPU, MPS)."""
    import torch

    if precision != "auto":
        return precision
    return "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"


def torch_dtype(precision: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def load_tokenizer(source: ModelSource):
    """The model's tokenizer, with a pad token (EOS when it has none)."""
    require("transformers", extra=EXTRA, purpose="Fine-tuning backends")
    from transformers import AutoTokenizer

    with _model_errors(source):
        tokenizer = AutoTokenizer.from_pretrained(source.name, **source.kwargs())
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    source: ModelSource,
    *,
    head: str,
    device: str,
    dtype=None,
    labels: list[str] | None = None,
    pad_token_id: int | None = None,
    quantization_config=None,
):
    """Load the causal LM (``head='generative'``) or a sequence-classification model over ``labels``.

    A GGUF file is dequantised into a plain, trainable, serialisable model. With a
    ``quantization_config`` (QLoRA) a GGUF file is first written out as a plain checkpoint.
    """
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, GgufConfig

    kwargs: dict = {}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if head == "classifier":
        kwargs.update(
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
            pad_token_id=pad_token_id,
        )
    if quantization_config is not None:
        source = plain_checkpoint(source)
        kwargs.update(quantization_config=quantization_config, device_map={"": device})
    elif source.gguf_file:
        kwargs.update(quantization_config=GgufConfig(dequantize=True), **source.kwargs())
    auto = AutoModelForSequenceClassification if head == "classifier" else AutoModelForCausalLM
    with _model_errors(source), _expected_load_report():
        model = auto.from_pretrained(source.name, **kwargs)
    if head == "classifier" and model.config.pad_token_id is None:
        model.config.pad_token_id = pad_token_id
    return model if quantization_config is not None else model.to(device)


_PLAIN: dict[tuple[str, str], str] = {}


def plain_checkpoint(source: ModelSource) -> ModelSource:
    """A plain safetensors copy of a GGUF model (made once per process), else ``source`` itself."""
    if not source.gguf_file:
        return source
    key = (source.name, source.gguf_file)
    if key not in _PLAIN:
        from transformers import AutoModelForCausalLM, GgufConfig

        out = tempfile.mkdtemp(prefix="label-audit-gguf-")
        atexit.register(shutil.rmtree, out, ignore_errors=True)
        with _model_errors(source):
            model = AutoModelForCausalLM.from_pretrained(
                source.name, quantization_config=GgufConfig(dequantize=True), **source.kwargs()
            )
        model.save_pretrained(out)
        load_tokenizer(source).save_pretrained(out)
        _PLAIN[key] = out
    return ModelSource(_PLAIN[key])


@contextlib.contextmanager
def _expected_load_report():
    """Silence transformers' load report: a new classifier head is expected, not a warning."""
    from transformers.utils import logging

    before = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(before)


@contextlib.contextmanager
def _model_errors(source: ModelSource):
    """Turn loader failures into a :class:`ModelError` naming the model."""
    try:
        yield
    except (OSError, ValueError, KeyError) as exc:
        where = source.name + (f" ({source.gguf_file})" if source.gguf_file else "")
        raise ModelError(f"cannot load model {where}: {exc}") from exc
