"""Token ids of prompts and label continuations, shared by training and scoring.

The prompt and the label are tokenised separately and concatenated, so the ids the model is
trained on are exactly the ids it is scored on (no merge across the prompt/label boundary).
"""

from __future__ import annotations

from typing import Sequence

from labelcore.errors import ModelError


def encode_prompts(tokenizer, texts: Sequence[str], *, template: str, max_length: int) -> list[list[int]]:
    """Prompt ids per text (with the tokenizer's special tokens, e.g. BOS).

    A prompt longer than ``max_length`` loses tokens from the middle (the end of the text), so
    the template's tail (``"\\nLabel:"``) always survives.
    """
    tail = template.split("{text}", 1)[1]
    n_tail = len(tokenizer(tail, add_special_tokens=False)["input_ids"]) if tail else 0
    prompts = [template.format(text=t) for t in texts]
    encoded = tokenizer(prompts, add_special_tokens=True)["input_ids"]
    keep_head = max(1, max_length - n_tail)
    return [ids if len(ids) <= max_length else ids[:keep_head] + ids[len(ids) - n_tail :] for ids in encoded]


def encode_labels(tokenizer, labels: Sequence[str], *, prefix: str, eos: bool) -> list[list[int]]:
    """Token ids of ``prefix + label`` (plus EOS when ``eos``) for every label name."""
    encoded = []
    for label in labels:
        ids = tokenizer(str(label), add_special_tokens=False)["input_ids"] if str(label).strip() else []
        if not ids:
            raise ModelError(
                f"label {label!r} tokenises to nothing with this model's tokenizer; rename it "
                "(the generative head scores the label name as text)"
            )
        ids = tokenizer(prefix + str(label), add_special_tokens=False)["input_ids"]
        if eos:
            if tokenizer.eos_token_id is None:
                raise ModelError("label_eos=true but the tokenizer has no EOS token; use label_eos=false")
            ids = ids + [tokenizer.eos_token_id]
        encoded.append(ids)
    if len({tuple(i) for i in encoded}) < len(encoded):
        raise ModelError("two labels tokenise to the same ids; the generative head cannot tell them apart")
    return encoded


def length_sorted_batches(seqs: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """Row indices in batches of ``batch_size``, shortest sequences first, so each batch pads
    little; write results back by these indices to keep the input order."""
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))  # stable: ties keep input order
    return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
