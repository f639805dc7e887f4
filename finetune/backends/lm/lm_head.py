"""The decoder body and the output head of a causal LM, used apart so that the (large)
vocabulary projection runs only at the positions that need it."""

from __future__ import annotations


def unwrap(model):
    """The Hugging Face model under a peft wrapper (LoRA layers stay injected in it)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def decoder_of(model):
    """The transformer body: returns ``last_hidden_state`` (after the final norm)."""
    return unwrap(model).get_decoder()


def head_logits(model, hidden):
    """Vocabulary logits for ``hidden (..., H)``: the LM head plus the model's final soft-capping."""
    import torch

    inner = unwrap(model)
    logits = inner.get_output_embeddings()(hidden)
    cap = getattr(inner.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def token_log_probs(model, hidden, rows, tokens, *, vocab_tile: int | None = None, rows_per_pass: int = 4096):
    """``log p(tokens[m] | hidden[rows[m]])`` under the full-vocabulary softmax, shape ``(M,)``.

    ``hidden (N, H)``: positions' final hidden states; ``rows (M,)``, ``tokens (M,)``: the
    (position, token) pairs wanted. The vocabulary is projected ``vocab_tile`` columns at a
    time with a running log-sum-exp, so the ``(N, V)`` logits never exist at once: on a CPU a
    2,048-column tile stays in cache and is ~2x faster than one big projection (262k vocab).
    Heads that are not a plain ``nn.Linear`` (quantised, wrapped) take the direct path.
    """
    import torch

    inner = unwrap(model)
    head = inner.get_output_embeddings()
    cap = getattr(inner.config, "final_logit_softcapping", None)
    out = torch.empty(len(rows), dtype=torch.float32, device=hidden.device)
    if vocab_tile is None:
        vocab_tile = 2048 if hidden.device.type == "cpu" else 32768
    for r0 in range(0, hidden.shape[0], rows_per_pass):
        x = hidden[r0 : r0 + rows_per_pass]
        wanted = ((rows >= r0) & (rows < r0 + x.shape[0])).nonzero().squeeze(-1)
        if type(head) is torch.nn.Linear:
            lse, picked = _tiled_logsumexp(x, head, cap, rows[wanted] - r0, tokens[wanted], vocab_tile)
        else:
            logits = head_logits(model, x).float()
            lse, picked = torch.logsumexp(logits, dim=-1), logits[rows[wanted] - r0, tokens[wanted]]
        out[wanted] = picked - lse[rows[wanted] - r0]
    return out


def _tiled_logsumexp(x, head, cap, rows, tokens, tile: int):
    """(log-sum-exp of every row's logits ``(n,)``, the logits at (rows, tokens) ``(m,)``)."""
    import torch
    import torch.nn.functional as F

    weight, bias = head.weight, head.bias
    order = torch.argsort(tokens)
    rows, tokens = rows[order], tokens[order]
    picked = torch.empty(len(tokens), dtype=torch.float32, device=x.device)
    running_max = torch.full((x.shape[0],), -float("inf"), device=x.device)
    running_sum = torch.zeros(x.shape[0], device=x.device)
    for c in range(0, weight.shape[0], tile):
        y = F.linear(x, weight[c : c + tile], None if bias is None else bias[c : c + tile]).float()
        if cap:
            y = torch.tanh(y / cap) * cap
        lo, hi = torch.searchsorted(tokens, torch.tensor([c, c + tile], device=x.device)).tolist()
        picked[lo:hi] = y[rows[lo:hi], tokens[lo:hi] - c]
        new_max = torch.maximum(running_max, y.amax(dim=-1))
        running_sum = running_sum * torch.exp(running_max - new_max) + y.sub_(new_max[:, None]).exp_().sum(dim=-1)
        running_max = new_max
    return running_max + running_sum.log(), picked[torch.argsort(order)]
