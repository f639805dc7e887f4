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
