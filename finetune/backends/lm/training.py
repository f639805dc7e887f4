"""Training through the Hugging Face Trainer: examples, collation, the label-token loss,
checkpoints, resume, threads and out-of-memory errors."""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Sequence

from labelcore.errors import ModelError
from finetune.backends.lm.lm_head import decoder_of, head_logits


def generative_examples(prompts: Sequence[Sequence[int]], label_ids: Sequence[Sequence[int]]) -> list[dict]:
    """Prompt + label ids; ``labels`` is -100 on the prompt, so the loss covers label tokens only."""
    return [
        {"input_ids": list(p) + list(lab), "labels": [-100] * len(p) + list(lab)}
        for p, lab in zip(prompts, label_ids)
    ]


def classifier_examples(texts_ids: Sequence[Sequence[int]], y_codes: Sequence[int]) -> list[dict]:
    return [{"input_ids": list(ids), "labels": int(c)} for ids, c in zip(texts_ids, y_codes)]


class RightPadCollator:
    """Right-pads ``input_ids`` (with ``pad_id``) and token-level ``labels`` (with -100)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, examples: list[dict]) -> dict:
        import torch

        width = max(len(e["input_ids"]) for e in examples)
        ids = torch.full((len(examples), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(examples), width), dtype=torch.long)
        token_labels = isinstance(examples[0]["labels"], list)
        labels = torch.full((len(examples), width), -100, dtype=torch.long) if token_labels else None
        for i, e in enumerate(examples):
            n = len(e["input_ids"])
            ids[i, :n] = torch.as_tensor(e["input_ids"])
            mask[i, :n] = 1
            if token_labels:
                labels[i, :n] = torch.as_tensor(e["labels"])
        if not token_labels:
            labels = torch.as_tensor([e["labels"] for e in examples], dtype=torch.long)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def label_token_loss(model, inputs: dict):
    """Cross-entropy over label tokens, with the vocabulary head only at those positions."""
    import torch

    hidden = decoder_of(model)(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    targets = inputs["labels"][:, 1:]
    keep = targets != -100
    logits = head_logits(model, hidden[:, :-1][keep]).float()
    return torch.nn.functional.cross_entropy(logits, targets[keep])


def make_trainer(
    model, examples: list[dict], *, cfg, pad_id: int, precision: str, device: str, output_dir: str,
    full_vocab_loss: bool = False,
):
    """A Trainer for ``model`` on ``examples``; generative heads use :func:`label_token_loss`
    (``full_vocab_loss=True``: the model's own loss, logits at every position, for comparison)."""
    from transformers import Trainer, TrainingArguments

    class LabelTokenTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = label_token_loss(model, inputs)
            return (loss, None) if return_outputs else loss

    checkpoints = bool(cfg.output_dir)
    fields = TrainingArguments.__dataclass_fields__
    recompute = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    if "train_sampling_strategy" in fields:  # transformers >= 5
        sampling = {"train_sampling_strategy": "group_by_length" if cfg.group_by_length else "random"}
    else:
        sampling = {"group_by_length": cfg.group_by_length}
    args = TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup,
        weight_decay=cfg.weight_decay,
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        **{recompute: cfg.gradient_checkpointing},
        **sampling,
        save_strategy=("steps" if cfg.save_steps else "epoch") if checkpoints else "no",
        save_steps=cfg.save_steps or 500,
        save_total_limit=2,
        logging_steps=cfg.logging_steps,
        logging_strategy="steps",
        report_to=[],
        disable_tqdm=not cfg.progress,
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )
    trainer_class = LabelTokenTrainer if cfg.head == "generative" and not full_vocab_loss else Trainer
    trainer = trainer_class(model=model, args=args, train_dataset=examples, data_collator=RightPadCollator(pad_id))
    if not cfg.progress:  # no bars, and no printed log lines either
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    return trainer


def last_checkpoint(output_dir: str) -> str | None:
    """The newest ``checkpoint-N`` directory in ``output_dir`` (None if there is none)."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output_dir) if output_dir and Path(output_dir).is_dir() else None


def run_key(cfg, texts: Sequence[str], labels: Sequence[str]) -> str:
    """Names a run's checkpoint folder: the training data and every option that shapes the run
    except its length (``epochs``/``max_steps``: a longer rerun may resume a shorter one).
    Out-of-fold runs sharing one ``output_dir`` thus never resume each other's checkpoints."""
    content = {k: v for k, v in cfg.to_dict().items() if k not in (*cfg.runtime_fields, "epochs", "max_steps")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode())
    for text, label in zip(texts, labels):
        digest.update(f"{len(text)}:{text}{len(label)}:{label}".encode())
    return digest.hexdigest()[:12]


def train(model, examples: list[dict], *, cfg, pad_id: int, precision: str, device: str, key: str) -> list[dict]:
    """Train in place; checkpoints go to ``cfg.output_dir/run-KEY`` and a rerun with the same
    key resumes from the last one when ``cfg.resume``.

    Returns the Trainer's log history (``loss`` per logging step).
    """
    with contextlib.ExitStack() as stack:
        if cfg.output_dir:
            out = str(Path(cfg.output_dir) / f"run-{key}")
        else:
            out = stack.enter_context(tempfile.TemporaryDirectory(prefix="label-audit-train-"))
        trainer = make_trainer(model, examples, cfg=cfg, pad_id=pad_id, precision=precision, device=device, output_dir=out)
        resume = last_checkpoint(out) if cfg.output_dir and cfg.resume else None
        with oom_as_model_error(cfg.batch_size, "training"):
            trainer.train(resume_from_checkpoint=resume)
        return list(trainer.state.log_history)


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


@contextlib.contextmanager
def oom_as_model_error(batch_size: int, what: str):
    """Re-raise an out-of-memory failure as a :class:`ModelError` that says what to change."""
    try:
        yield
    except (RuntimeError, MemoryError) as exc:
        if not (isinstance(exc, MemoryError) or is_out_of_memory(exc)):
            raise
        raise ModelError(
            f"out of memory during {what} with batch_size={batch_size}: try batch_size={max(1, batch_size // 2)} "
            "(with grad_accum to keep the effective batch), gradient_checkpointing=true, "
            "max_length lower, or the lora/qlora backend"
        ) from exc
