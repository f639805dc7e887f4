"""The Trainer set-up: length-grouped batches pad less than shuffled ones, and cover every row."""

from __future__ import annotations

import random

import pytest

from finetune.backends.lm.training import make_trainer
from finetune.backends.registry import make_backend


def _padded_tokens(tmp_path, model_dir: str, examples: list[dict], group_by_length: bool) -> tuple[int, list[int]]:
    from transformers import AutoModelForCausalLM

    cfg = make_backend(f"full:{model_dir},batch_size=8,group_by_length={str(group_by_length).lower()}").config
    trainer = make_trainer(
        AutoModelForCausalLM.from_pretrained(model_dir), examples, cfg=cfg, pad_id=0, precision="fp32",
        device="cpu", output_dir=str(tmp_path / f"out-{group_by_length}"),
    )
    padded, seen = 0, []
    for batch in trainer.get_train_dataloader():
        padded += batch["input_ids"].numel()
        seen.extend(batch["attention_mask"].sum(dim=1).tolist())
    return padded, seen


@pytest.mark.parametrize("seed", [0, 1])
def test_length_grouped_batches_pad_less_and_keep_every_row(tmp_path, tiny_models, seed):
    rng = random.Random(seed)
    lengths = [rng.choice([4, 5, 6, 40, 48, 60]) for _ in range(160)]
    examples = [{"input_ids": [5] * n, "labels": [-100] * (n - 1) + [7]} for n in lengths]

    grouped, grouped_rows = _padded_tokens(tmp_path, tiny_models["gemma3"], examples, True)
    shuffled, shuffled_rows = _padded_tokens(tmp_path, tiny_models["gemma3"], examples, False)

    assert sorted(grouped_rows) == sorted(shuffled_rows) == sorted(lengths)  # every row once, either way
    assert grouped < 0.75 * shuffled
    assert grouped >= sum(lengths)
