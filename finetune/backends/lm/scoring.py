"""Exact probabilities over a fixed set of label strings from a causal LM.

For a prompt ``x`` and label token sequences ``c_k = (c_k1 .. c_km)`` (``label_prefix`` +
name, + EOS), the score of label ``k`` is its exact log-probability as a continuation::

    s_k = sum_j log p(c_kj | x, c_k1 .. c_k(j-1))      (full-vocabulary softmax at each step)

and ``predict_proba`` returns ``softmax_k(s_k)``: the model's distribution restricted to the
label set and renormalised (no length normalisation). How it is computed, cheaply but exactly:

1. the prompts run once (left-padded, explicit position ids) and keep their KV cache;
2. the label sequences become a prefix tree: each distinct prefix ("card", "card_arr"...)
   is computed once; its continuation rows run, grouped by length (no padding), in batches
   on copies of the cache;
3. the vocabulary head runs only at the distinct prefix positions (never at prompt tokens):
   the log-normaliser is computed there, vocabulary tile by tile with a running log-sum-exp,
   and the needed token logits gathered (:func:`.lm_head.token_log_probs`).

:func:`naive_label_log_probs` is the reference (one full forward pass per prompt x label).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from finetune.backends.lm.lm_head import decoder_of, token_log_probs, unwrap
from finetune.backends.lm.prompts import length_sorted_batches


@dataclass(frozen=True)
class LabelTree:
    """The distinct prefixes (nodes) of the label token sequences.

    ``nodes[i]`` is a prefix tuple; ``membership (n_nodes, K)`` is 1 where node ``i`` is a
    prefix of label ``k``; ``children`` maps each node that has children to their next tokens;
    ``rows`` are the fewest token rows whose positions cover every node with children.
    """

    nodes: list[tuple[int, ...]]
    membership: np.ndarray
    children: dict[tuple[int, ...], list[int]]
    rows: list[tuple[int, ...]]

    @classmethod
    def build(cls, labels: Sequence[Sequence[int]]) -> "LabelTree":
        nodes = sorted({tuple(lab[: j + 1]) for lab in labels for j in range(len(lab))}, key=lambda n: (len(n), n))
        index = {n: i for i, n in enumerate(nodes)}
        membership = np.zeros((len(nodes), len(labels)))
        for k, lab in enumerate(labels):
            for j in range(len(lab)):
                membership[index[tuple(lab[: j + 1])], k] = 1.0
        children: dict[tuple[int, ...], list[int]] = {}
        for n in nodes[::-1]:
            if len(n) > 1:
                children.setdefault(n[:-1], []).insert(0, n[-1])
        rows = [p for p, kids in children.items() if not any(p + (t,) in children for t in kids)]
        return cls(nodes, membership, children, sorted(rows))


def label_log_probs(
    model,
    prompts: Sequence[Sequence[int]],
    labels: Sequence[Sequence[int]],
    *,
    pad_id: int,
    batch_size: int = 16,
    label_chunk: int = 256,
    vocab_chunk_rows: int | None = None,
) -> np.ndarray:
    """Exact ``log p(label_k | prompt_i)`` for every prompt and label, shape ``(N, K)``.

    ``prompts`` and ``labels`` are token-id lists (see :mod:`.prompts`). ``label_chunk`` bounds
    the continuation rows run against one copy of the prompt cache; ``vocab_chunk_rows`` the
    label positions projected onto the vocabulary per pass (default: as many as keep a pass's
    logits under 2**26 floats, 256 MB, even for a head that cannot be tiled).
    """
    import torch

    tree = LabelTree.build(labels)
    device = next(model.parameters()).device
    if vocab_chunk_rows is None:
        head = unwrap(model).get_output_embeddings()
        vocab = getattr(head, "out_features", None) or unwrap(model).config.vocab_size
        vocab_chunk_rows = max(1, 2**26 // vocab)
    out = np.zeros((len(prompts), len(labels)))
    membership = torch.as_tensor(tree.membership, dtype=torch.float64, device=device)
    with torch.no_grad():
        for rows in length_sorted_batches(prompts, batch_size):
            batch = [prompts[r] for r in rows]
            node_logp = _node_log_probs(model, batch, tree, pad_id, label_chunk, vocab_chunk_rows, device)
            out[rows] = (node_logp.double() @ membership).cpu().numpy()
    return out


def label_probabilities(log_probs: np.ndarray) -> np.ndarray:
    """Softmax over labels of ``(N, K)`` label log-probabilities (rows sum to 1)."""
    z = log_probs - log_probs.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device):
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(seqs), width), dtype=torch.long, device=device)
    for i, s in enumerate(seqs):
        ids[i, width - len(s) :] = torch.as_tensor(s, device=device)
        mask[i, width - len(s) :] = 1
    return ids, mask


def _row_chunks(rows: Sequence[tuple[int, ...]], label_chunk: int) -> list[list[tuple[int, ...]]]:
    """Rows grouped by equal length (then at most ``label_chunk`` a group): a chunk runs padded
    to its longest row, so mixing a 2-token row with a 16-token one would waste 14 positions."""
    by_length: dict[int, list[tuple[int, ...]]] = {}
    for row in rows:
        by_length.setdefault(len(row), []).append(row)
    return [
        group[c : c + label_chunk]
        for _, group in sorted(by_length.items())
        for c in range(0, len(group), label_chunk)
    ]


def _node_log_probs(model, prompts, tree: LabelTree, pad_id, label_chunk, vocab_chunk_rows, device):
    """``(B, n_nodes)``: log p(last token of node | prompt, node[:-1]) for every tree node."""
    import torch

    decoder = decoder_of(model)
    ids, mask = _left_pad(prompts, pad_id, device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    body = decoder(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    cache = body.past_key_values

    # Hidden state of each parent node (the prompt's last position for the first label token;
    # the continuation rows, run on copies of the prompt cache, for the others).
    B = len(prompts)
    parent_hidden = {(): body.last_hidden_state[:, -1]}
    lengths = mask.sum(-1)
    for rows in _row_chunks(tree.rows, label_chunk):
        R, T = len(rows), max(len(r) for r in rows)
        row_ids = torch.full((R, T), pad_id, dtype=torch.long, device=device)
        row_mask = torch.zeros((R, T), dtype=torch.long, device=device)
        for r, toks in enumerate(rows):
            row_ids[r, : len(toks)] = torch.as_tensor(toks, device=device)
            row_mask[r, : len(toks)] = 1
        chunk_cache = copy.deepcopy(cache)
        chunk_cache.batch_repeat_interleave(R)
        cont = decoder(
            input_ids=row_ids.repeat(B, 1),
            attention_mask=torch.cat([mask.repeat_interleave(R, 0), row_mask.repeat(B, 1)], dim=1),
            position_ids=lengths.repeat_interleave(R)[:, None] + torch.arange(T, device=device)[None],
            past_key_values=chunk_cache,
            use_cache=True,
        ).last_hidden_state.view(B, R, T, -1)
        for r, toks in enumerate(rows):
            for j in range(len(toks)):
                parent_hidden.setdefault(toks[: j + 1], cont[:, r, j])

    # Vocabulary head only at the parents: each child's token log-probability.
    index = {n: i for i, n in enumerate(tree.nodes)}
    children = {(): sorted({n[0] for n in tree.nodes}), **tree.children}
    parents = list(children)
    hidden = torch.stack([parent_hidden[p] for p in parents], dim=1).reshape(B * len(parents), -1)
    pair_parent = torch.tensor([i for i, p in enumerate(parents) for _ in children[p]], device=device)
    pair_token = torch.tensor([t for p in parents for t in children[p]], device=device)
    pair_node = [index[p + (t,)] for p in parents for t in children[p]]
    rows = (torch.arange(B, device=device)[:, None] * len(parents) + pair_parent[None]).reshape(-1)
    logp = token_log_probs(model, hidden, rows, pair_token.repeat(B), rows_per_pass=vocab_chunk_rows)
    node_logp = torch.zeros((B, len(tree.nodes)), dtype=torch.float32, device=device)
    node_logp[:, pair_node] = logp.view(B, -1)
    return node_logp


def naive_label_log_probs(model, prompts: Sequence[Sequence[int]], labels: Sequence[Sequence[int]]) -> np.ndarray:
    """Reference scoring: one unpadded forward pass with full-vocabulary logits per prompt x label."""
    import torch

    device = next(model.parameters()).device
    out = np.zeros((len(prompts), len(labels)))
    with torch.no_grad():
        for i, prompt in enumerate(prompts):
            for k, lab in enumerate(labels):
                ids = torch.as_tensor([list(prompt) + list(lab)], device=device)
                logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
                positions = range(len(prompt) - 1, len(prompt) + len(lab) - 1)
                out[i, k] = float(sum(logp[p, t] for p, t in zip(positions, lab)))
    return out
