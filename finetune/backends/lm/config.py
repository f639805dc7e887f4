"""Configs of the causal-LM backends ``full``, ``lora`` and ``qlora`` (no torch import here).

Spec examples::

    full:path/to/model,head=classifier,epochs=1
    lora:Qwen/Qwen2.5-1.5B,lora_r=16,target_modules=all-linear
    qlora:preset=qwen2.5-7b-qlora,batch_size=8
    full:/models/gemma-3-270m.Q4_K_M.gguf           # a GGUF file, dequantised on load
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from labelcore.errors import ConfigError
from finetune.backends.base import BackendConfig, TaskResources
from finetune.backends.lm.presets import load_preset

HEADS = ("generative", "classifier")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cuda", "mps", "cpu")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")


def _uses_cuda(device: str) -> bool:
    """``cuda``, or ``auto`` where torch sees a CUDA GPU (no torch installed: no GPU)."""
    if device != "auto":
        return device == "cuda"
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@dataclass(frozen=True)
class LMConfig(BackendConfig):
    """Options shared by every causal-LM backend."""

    positional_field = "model"
    runtime_fields = (
        "output_dir", "threads", "device", "eval_batch_size", "resume", "save_steps",
        "progress", "label_chunk", "logging_steps",
    )

    model: str = field(
        default="",
        metadata={
            "help": "Hugging Face causal LM: a hub id, a local directory, or a .gguf file "
            "(dequantised on load)."
        },
    )
    gguf_file: str = field(
        default="", metadata={"help": "GGUF file name inside the `model` directory ('' = none)."}
    )
    preset: str = field(
        default="", metadata={"help": "Preset name (finetune/presets/NAME.json) or JSON path."}
    )
    head: str = field(
        default="generative",
        metadata={
            "help": "'generative': prompt + label name as text, loss on the label tokens only; "
            "'classifier': a sequence-classification head on the last token."
        },
    )
    prompt: str = field(
        default="Text: {text}\nLabel:",
        metadata={"help": "Prompt template of the generative head; must contain {text}."},
    )
    label_prefix: str = field(
        default=" ", metadata={"help": "Text put between the prompt and the label name."}
    )
    label_eos: bool = field(
        default=True,
        metadata={
            "help": "End each label with the EOS token, so a label that is a prefix of another "
            "('card' / 'card_arrival') keeps its own probability."
        },
    )
    epochs: float = field(default=3.0, metadata={"help": "Training epochs."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after N optimiser steps (-1 = epochs)."})
    lr: float = field(default=5e-5, metadata={"help": "Peak learning rate."})
    scheduler: str = field(default="cosine", metadata={"help": f"LR schedule: {', '.join(SCHEDULERS)}."})
    warmup: float = field(default=0.0, metadata={"help": "Warm-up: a ratio of steps if < 1, else steps."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    batch_size: int = field(default=16, metadata={"help": "Training batch size per device."})
    grad_accum: int = field(default=1, metadata={"help": "Gradient-accumulation steps."})
    max_length: int = field(default=128, metadata={"help": "Truncate prompts/texts to N tokens."})
    precision: str = field(
        default="auto",
        metadata={"help": "'auto' = bf16 on a GPU that supports it, else fp32; or fp32/bf16/fp16."},
    )
    gradient_checkpointing: bool = field(
        default=False, metadata={"help": "Recompute activations in backward (less memory, slower)."}
    )
    group_by_length: bool = field(
        default=True,
        metadata={
            "help": "Batch rows of similar length together (less padding: fewer tokens per epoch); "
            "false = uniformly shuffled batches."
        },
    )
    # --- runtime-only: not part of the fingerprint ---
    output_dir: str = field(
        default="",
        metadata={"help": "Trainer checkpoints; a rerun resumes from the last one ('' = a temp dir, no checkpoints)."},
    )
    save_steps: int = field(default=0, metadata={"help": "Checkpoint every N steps (0 = every epoch)."})
    resume: bool = field(default=True, metadata={"help": "Resume from the last checkpoint in output_dir."})
    device: str = field(default="auto", metadata={"help": f"Device: {', '.join(DEVICES)}."})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0 = torch's default)."})
    eval_batch_size: int = field(default=16, metadata={"help": "Texts per batch in predict_proba."})
    label_chunk: int = field(
        default=256, metadata={"help": "Label continuations scored per forward pass (memory bound)."}
    )
    progress: bool = field(default=True, metadata={"help": "Show the Trainer's progress bars."})
    logging_steps: int = field(default=10, metadata={"help": "Log the training loss every N steps."})

    @classmethod
    def from_items(cls, items: Sequence[str], **overrides: Any) -> "LMConfig":
        """Like the base parser, plus ``preset=NAME``: the preset fills every option not given."""
        items = [i for i in items if i.strip()]
        preset = [i for i in items if i.strip().replace("-", "_").startswith("preset=")]
        if not preset and not overrides.get("preset"):
            return super().from_items(items, **overrides)
        name = overrides.get("preset") or preset[-1].split("=", 1)[1].strip()
        rest = [i for i in items if i not in preset]
        given = {i.split("=", 1)[0].strip().replace("-", "_") if "=" in i else cls.positional_field for i in rest}
        values = load_preset(name, backend=cls.backend)
        known = cls.help()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"preset {name!r}: unknown option(s) {', '.join(unknown)} for '{cls.backend}'")
        defaults = {k: v for k, v in values.items() if k not in given and k not in overrides}
        return super().from_items(rest, **defaults, **{**overrides, "preset": name})

    def task_resources(self) -> TaskResources:
        """One GPU per fold when the device is CUDA (``auto`` with a CUDA GPU visible here);
        ``threads`` CPUs (1 when unset)."""
        return TaskResources(cpus=float(self.threads or 1), gpus=1.0 if _uses_cuda(self.device) else 0.0)

    def validate(self) -> None:
        name = self.backend
        if not self.model:
            raise ConfigError(f"{name}: give a model, e.g. '{name}:path/to/model' or '{name}:preset=NAME'")
        for option, value, allowed in (
            ("head", self.head, HEADS),
            ("precision", self.precision, PRECISIONS),
            ("device", self.device, DEVICES),
            ("scheduler", self.scheduler, SCHEDULERS),
        ):
            if value not in allowed:
                raise ConfigError(f"{name}: {option}={value!r}; choose one of {', '.join(allowed)}")
        if "{text}" not in self.prompt:
            raise ConfigError(f"{name}: prompt must contain '{{text}}', got {self.prompt!r}")
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError(f"{name}: epochs must be > 0 (or set max_steps)")
        if self.lr <= 0 or self.warmup < 0 or self.weight_decay < 0:
            raise ConfigError(f"{name}: lr must be > 0, warmup and weight_decay >= 0")
        for option in ("batch_size", "grad_accum", "max_length", "eval_batch_size", "label_chunk", "logging_steps"):
            if getattr(self, option) < 1:
                raise ConfigError(f"{name}: {option} must be >= 1")
        if self.threads < 0 or self.save_steps < 0:
            raise ConfigError(f"{name}: threads and save_steps must be >= 0")


@dataclass(frozen=True)
class FullConfig(LMConfig):
    """``full``: every weight is trained."""

    backend = "full"


@dataclass(frozen=True)
class LoraConfig(LMConfig):
    """``lora``: low-rank adapters (peft) on the chosen linear layers; the base is frozen."""

    backend = "lora"

    lr: float = field(default=2e-4, metadata={"help": "Peak learning rate."})
    lora_r: int = field(default=16, metadata={"help": "Adapter rank."})
    lora_alpha: int = field(default=32, metadata={"help": "Adapter scaling (alpha / r)."})
    lora_dropout: float = field(
        default=0.0,
        metadata={"help": "Dropout on the adapter input (peft's default 0; 0.05 made a CPU step 1.3x slower)."},
    )
    target_modules: tuple = field(
        default=("all-linear",),
        metadata={"help": "Layers to adapt, '+'-separated names (q_proj+v_proj) or all-linear."},
    )

    def validate(self) -> None:
        super().validate()
        if self.lora_r < 1 or self.lora_alpha < 1 or not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"{self.backend}: lora_r, lora_alpha >= 1 and 0 <= lora_dropout < 1")
        if not self.target_modules:
            raise ConfigError(f"{self.backend}: target_modules is empty")


@dataclass(frozen=True)
class QLoraConfig(LoraConfig):
    """``qlora``: LoRA on a base loaded in 4-bit NF4 with double quantisation (bitsandbytes)."""

    backend = "qlora"

    compute_dtype: str = field(
        default="auto",
        metadata={"help": "dtype of the 4-bit matmuls: auto (bf16 on GPU, fp32 on CPU), fp32, bf16, fp16."},
    )

    def validate(self) -> None:
        super().validate()
        if self.compute_dtype not in PRECISIONS:
            raise ConfigError(f"qlora: compute_dtype={self.compute_dtype!r}; choose one of {', '.join(PRECISIONS)}")
