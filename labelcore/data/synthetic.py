"""The built-in default dataset: templated banking-style utterances, generated with a seed.

A dozen intents; ``card_arrival`` and ``card_delivery_estimate`` deliberately share
ambiguous phrasings (a confusable pair, as in BANKING77); a share of rows get a planted
label flip, and the true label is kept in the ``true_label`` column so detection can be scored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SLOTS = {
    "card": ["card", "new card", "debit card", "replacement card", "visa card", "bank card"],
    "amount": ["20 dollars", "£50", "100 euros", "$15", "a small amount", "300 pounds"],
    "person": ["my friend", "my landlord", "my mum", "a colleague", "my brother", "someone"],
    "when": ["yesterday", "last week", "this morning", "two days ago", "on Monday", "earlier"],
    "please": ["", "please ", "can you help, ", "hi, ", "hello, ", "urgent: "],
}

TEMPLATES: dict[str, list[str]] = {
    "card_arrival": [
        "{please}my {card} still hasn't arrived",
        "{please}i ordered a {card} {when} and it is not here yet",
        "{please}where is my {card}? it never came",
        "{please}the {card} you sent has not shown up",
        "{please}i am still waiting on my {card} to arrive",
    ],
    "card_delivery_estimate": [
        "{please}how long does a {card} take to arrive",
        "{please}when will i get my {card}",
        "{please}what is the delivery time for a {card}",
        "{please}how many days until my {card} is delivered",
        "{please}can you estimate when my {card} will come",
    ],
    # phrasings both intents use: the models cannot tell these apart, whatever their size
    "_card_ambiguous": [
        "{please}where is my {card}",
        "{please}is my {card} on its way",
        "{please}any news about my {card} delivery",
    ],
    "lost_or_stolen_card": [
        "{please}i lost my {card}",
        "{please}my {card} was stolen {when}",
        "{please}i can't find my {card} anywhere, block it",
        "{please}someone took my {card}",
    ],
    "card_payment_declined": [
        "{please}my {card} was declined at the shop",
        "{please}why was my payment of {amount} declined",
        "{please}the {card} payment did not go through {when}",
        "{please}card declined when paying {amount}",
    ],
    "transfer_not_received": [
        "{please}{person} has not received the {amount} i sent",
        "{please}my transfer of {amount} to {person} never arrived",
        "{please}i sent {amount} {when} but {person} didn't get it",
        "{please}the money i transferred is missing",
    ],
    "balance_not_updated": [
        "{please}my balance did not update after the transfer",
        "{please}i deposited {amount} {when} and my balance is the same",
        "{please}why hasn't my balance changed",
        "{please}balance still shows the old amount",
    ],
    "exchange_rate": [
        "{please}what exchange rate do you use",
        "{please}how much is {amount} in dollars",
        "{please}is the exchange rate fair for {amount}",
        "{please}what rate will i get when converting {amount}",
    ],
    "top_up_failed": [
        "{please}my top up of {amount} failed",
        "{please}i tried to top up {when} and it didn't work",
        "{please}top-up failed with my {card}",
        "{please}why did my top up get rejected",
    ],
    "change_pin": [
        "{please}how do i change my pin",
        "{please}i want a new pin for my {card}",
        "{please}can i reset the pin on my {card}",
        "{please}where do i update my pin number",
    ],
    "refund_not_showing_up": [
        "{please}the refund of {amount} is not on my account",
        "{please}i was promised a refund {when} but can't see it",
        "{please}where is my refund",
        "{please}refund still missing from my statement",
    ],
    "cash_withdrawal_charge": [
        "{please}why was i charged for taking out cash",
        "{please}there is a fee on my cash withdrawal of {amount}",
        "{please}atm withdrawal charged me extra",
        "{please}do you charge for withdrawing {amount} at an atm",
    ],
    "terminate_account": [
        "{please}i want to close my account",
        "{please}how do i delete my account",
        "{please}please terminate my account {when}",
        "{please}cancel my account and refund {amount}",
    ],
}

CLASSES = tuple(k for k in TEMPLATES if not k.startswith("_"))
AMBIGUOUS_SHARE = 0.2  # share of card_arrival / card_delivery_estimate rows using shared phrasings


def _fill(template: str, rng: np.random.Generator) -> str:
    out = template
    for slot, values in SLOTS.items():
        token = "{" + slot + "}"
        while token in out:
            out = out.replace(token, values[rng.integers(len(values))], 1)
    return out.strip()


def generate_banking_demo(
    *, n_train_per_class: int = 60, n_test_per_class: int = 20, flip_rate: float = 0.04, seed: int = 7
) -> dict[str, pd.DataFrame]:
    """Return ``{"train": df, "test": df}`` with columns ``text, label, true_label``.

    Flips are planted in train only (the test set stays clean, as an honest yardstick)."""
    rng = np.random.default_rng(seed)
    frames = {}
    for split, n in (("train", n_train_per_class), ("test", n_test_per_class)):
        texts, labels = [], []
        for label in CLASSES:
            for _ in range(n):
                pool = TEMPLATES[label]
                if label in ("card_arrival", "card_delivery_estimate") and rng.random() < AMBIGUOUS_SHARE:
                    pool = TEMPLATES["_card_ambiguous"]
                texts.append(_fill(pool[rng.integers(len(pool))], rng))
                labels.append(label)
        order = rng.permutation(len(texts))
        frame = pd.DataFrame({"text": np.asarray(texts)[order], "label": np.asarray(labels)[order]})
        frame["true_label"] = frame["label"]
        if split == "train" and flip_rate > 0:
            n_flip = int(round(flip_rate * len(frame)))
            rows = rng.choice(len(frame), size=n_flip, replace=False)
            for r in rows:
                others = [c for c in CLASSES if c != frame.at[r, "label"]]
                frame.at[r, "label"] = others[rng.integers(len(others))]
        frames[split] = frame
    return frames


GENERATORS = {"banking_demo": generate_banking_demo}
