"""LoRA adapters (peft) and the 4-bit NF4 quantisation of QLoRA (bitsandbytes)."""

from __future__ import annotations

from labelcore.errors import require


def add_lora(model, cfg, *, head: str):
    """Wrap ``model`` with trainable LoRA adapters; the classifier head is trained and saved too."""
    peft = require("peft", extra="llm", purpose="The lora/qlora backends")

    targets = cfg.target_modules
    lora = peft.LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules="all-linear" if tuple(targets) == ("all-linear",) else list(targets),
        task_type="SEQ_CLS" if head == "classifier" else "CAUSAL_LM",
    )
    return peft.get_peft_model(model, lora)


def nf4_config(compute_dtype):
    """BitsAndBytesConfig for QLoRA: 4-bit NF4 weights, double quantisation."""
    require("bitsandbytes", extra="qlora", purpose="The qlora backend (4-bit NF4 quantisation)")
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


def prepare_kbit(model, *, gradient_checkpointing: bool):
    """peft's ``prepare_model_for_kbit_training`` (fp32 norms, input grads for checkpointing)."""
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
