"""Estimators of the ``full``, ``lora`` and ``qlora`` backends (the contract in ``base.py``).

One class does the work; the three subclasses differ only in how the model is built
(:meth:`_build_model`) and what ``save`` writes (all weights, or adapter + head).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from labelcore.errors import ModelError, require
from finetune.backends.base import Backend, check_proba, read_saved_meta
from finetune.backends.lm.config import FullConfig, LMConfig, LoraConfig, QLoraConfig
from finetune.backends.lm.loading import (
    ModelSource,
    load_model,
    load_tokenizer,
    resolve_device,
    resolve_precision,
    resolve_source,
    torch_dtype,
)
from finetune.backends.lm.prompts import encode_labels, encode_prompts, length_sorted_batches
from finetune.threads import torch_threads


def _count_parameters(model) -> int:
    """Parameters of the model (4-bit weights counted unpacked), adapters included."""
    from finetune.backends.lm.lm_head import unwrap

    return int(unwrap(model).num_parameters())


class CausalLMBackend(Backend):
    """Fine-tunes a causal LM with a generative or a classifier head (see ``LMConfig``)."""

    config_class = LMConfig
    code_version = "1"
    weights_dir = "model"

    # --- the estimator contract ------------------------------------------------------------
    def fit(self, texts: Sequence[str], y) -> "CausalLMBackend":
        from transformers import set_seed

        from finetune.backends.lm.training import (
            classifier_examples, generative_examples, oom_as_model_error, run_key, train,
        )

        cfg = self.config
        y = np.asarray(y).astype(str)
        if len(y) != len(texts):
            raise ModelError(f"fit: {len(texts)} texts but {len(y)} labels")
        self.classes_ = np.unique(y)
        with torch_threads(cfg.threads):
            self._setup(resolve_source(cfg.model, cfg.gguf_file))
            set_seed(cfg.seed)
            with oom_as_model_error(cfg.batch_size, "model loading"):
                self.model_ = self._build_model(self.source_)
            if cfg.head == "generative":
                codes = np.searchsorted(self.classes_, y)
                prompts = self._prompts(texts)
                examples = generative_examples(prompts, [self.label_ids_[c] for c in codes])
            else:
                examples = classifier_examples(self._encode_texts(texts), np.searchsorted(self.classes_, y))
            self.train_log_ = train(
                self.model_, examples, cfg=cfg, pad_id=self.tokenizer_.pad_token_id,
                precision=self.precision_, device=self.device_, key=run_key(cfg, list(texts), list(y)),
            )
        check_finite_training(self.model_, self.train_log_, backend=cfg.backend, lr=cfg.lr)
        self.model_.eval()
        self.n_parameters_ = _count_parameters(self.model_)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        from finetune.backends.lm.training import oom_as_model_error

        cfg = self.config
        self.check_fitted()
        if getattr(self, "model_", None) is None:
            raise ModelError(f"backend {cfg.backend!r} is not fitted: call fit() (or load()) before predict_proba()")
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        self.model_.eval()
        with torch_threads(cfg.threads), oom_as_model_error(cfg.eval_batch_size, "prediction"):
            if cfg.head == "generative":
                from finetune.backends.lm.scoring import label_log_probs, label_probabilities

                log_probs = label_log_probs(
                    self.model_, self._prompts(texts), self.label_ids_, pad_id=self.tokenizer_.pad_token_id,
                    batch_size=cfg.eval_batch_size, label_chunk=cfg.label_chunk,
                )
                proba = label_probabilities(log_probs)
            else:
                proba = self._classifier_proba(texts)
        return check_proba(proba, n_rows=len(texts), n_classes=len(self.classes_), backend=cfg.backend)

    # --- save / load -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``backend.json`` and the weights (all, or adapter + head) to ``path``."""
        self.check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(path / self.weights_dir)
        self.tokenizer_.save_pretrained(path / self.weights_dir)
        self._write_meta(path, weights=self.weights_dir)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "CausalLMBackend":
        """Rebuild a fitted backend written by :meth:`save` (any of full / lora / qlora)."""
        from finetune.backends.registry import get_entry

        path = Path(path)
        meta = read_saved_meta(path)
        entry = get_entry(meta["backend"])
        config_class = entry.config_class()
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
        backend = entry.estimator_class()(config_class(**values))
        backend.classes_ = np.asarray(meta["classes"])
        with torch_threads(backend.config.threads):
            backend._restore(path / meta["weights"])
        backend.model_.eval()
        backend.n_parameters_ = _count_parameters(backend.model_)
        return backend

    # --- internals ---------------------------------------------------------------------------
    def _setup(self, source: ModelSource) -> None:
        cfg = self.config
        self.source_ = source
        self.device_ = resolve_device(cfg.device)
        self.precision_ = resolve_precision(cfg.precision, self.device_)
        self.tokenizer_ = load_tokenizer(source)
        if cfg.head == "generative":
            self.label_ids_ = encode_labels(
                self.tokenizer_, list(self.classes_), prefix=cfg.label_prefix, eos=cfg.label_eos
            )

    def _load(self, source: ModelSource, **kwargs):
        return load_model(
            source, head=self.config.head, device=self.device_, labels=list(self.classes_),
            pad_token_id=self.tokenizer_.pad_token_id, **kwargs,
        )

    def _build_model(self, source: ModelSource):
        raise NotImplementedError

    def _restore(self, weights: Path) -> None:
        raise NotImplementedError

    def _prompts(self, texts: Sequence[str]) -> list[list[int]]:
        cfg = self.config
        return encode_prompts(self.tokenizer_, list(texts), template=cfg.prompt, max_length=cfg.max_length)

    def _encode_texts(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer_(list(texts), truncation=True, max_length=self.config.max_length)["input_ids"]

    def _classifier_proba(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        from finetune.backends.lm.training import RightPadCollator

        ids = self._encode_texts(texts)
        collate = RightPadCollator(self.tokenizer_.pad_token_id)
        device = next(self.model_.parameters()).device
        out = np.zeros((len(ids), len(self.classes_)))
        with torch.no_grad():
            for rows in length_sorted_batches(ids, self.config.eval_batch_size):
                batch = collate([{"input_ids": ids[r], "labels": 0} for r in rows])
                logits = self.model_(
                    input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)
                ).logits
                out[rows] = torch.softmax(logits.double(), dim=-1).cpu().numpy()
        return out


def check_finite_training(model, log_history: list[dict], *, backend: str, lr: float) -> None:
    """Raise :class:`ModelError` when a logged loss or a trained weight is NaN or infinite
    (a diverged run must not be saved or used: its predictions would all be NaN)."""
    import math

    import torch

    losses = [v for r in log_history for k, v in r.items() if k.endswith("loss") and isinstance(v, (int, float))]
    bad_loss = any(not math.isfinite(v) for v in losses)
    bad_weights = False
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad and p.dtype.is_floating_point and not torch.isfinite(p).all():
                bad_weights = True
                break
    if bad_loss or bad_weights:
        what = "the training loss" if bad_loss else "the trained weights"
        raise ModelError(
            f"backend {backend!r} diverged: {what} became NaN or infinite (lr={lr:g}); "
            "lower the learning rate (lr=...), add warmup, or use precision=fp32; nothing was saved"
        )


class FullBackend(CausalLMBackend):
    """``full``: all weights trained (fp32 weights; bf16 autocast on a GPU that supports it)."""

    config_class = FullConfig

    def _build_model(self, source: ModelSource):
        return self._load(source)

    def _restore(self, weights: Path) -> None:
        self._setup(ModelSource(str(weights)))
        self.model_ = self._load(self.source_)


class LoraBackend(CausalLMBackend):
    """``lora``: frozen base + LoRA adapters; ``save`` writes the adapter (and head) only."""

    config_class = LoraConfig
    weights_dir = "adapter"

    def _base(self, source: ModelSource):
        dtype = torch_dtype(self.precision_) if self.precision_ != "fp32" else None
        return self._load(source, dtype=dtype)

    def _build_model(self, source: ModelSource):
        from finetune.backends.lm.adapters import add_lora

        return add_lora(self._base(source), self.config, head=self.config.head)

    def _restore(self, weights: Path) -> None:
        from peft import PeftModel

        cfg = self.config
        self._setup(resolve_source(cfg.model, cfg.gguf_file))
        self.model_ = PeftModel.from_pretrained(self._base(self.source_), str(weights))


class QLoraBackend(LoraBackend):
    """``qlora``: LoRA on a 4-bit NF4 base with double quantisation (bitsandbytes)."""

    config_class = QLoraConfig

    def _base(self, source: ModelSource):
        from finetune.backends.lm.adapters import nf4_config, prepare_kbit

        require("bitsandbytes", extra="qlora", purpose="The qlora backend (4-bit NF4 quantisation)")
        compute = resolve_precision(self.config.compute_dtype, self.device_)
        model = self._load(source, quantization_config=nf4_config(torch_dtype(compute)))
        return prepare_kbit(model, gradient_checkpointing=self.config.gradient_checkpointing)
