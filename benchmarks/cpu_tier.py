"""The CPU tier against the ten lines it replaces: wall time and peak memory, side by side.

One process tree, cold caches: each command runs in its own subprocess with an empty
``LABEL_AUDIT_CACHE`` (a fresh temporary folder, so no fold and no embedding is cached),
one after the other, and the ratios are printed against the hand-written baseline:

- ``baseline``: what a user writes by hand - scikit-learn's ``cross_val_predict`` of the same
  TF-IDF (word 1-2 + char_wb 2-5) + logistic regression (C=30), then
  ``cleanlab.filter.find_label_issues``;
- ``tfidf-1``: ``audit find-issues --data D -b tfidf-lr --rounds 1``;
- ``default``: ``audit find-issues --data D`` (three CPU backends, two rounds, detectors, final
  models).

Peak RSS is the largest sum of resident memory over the command's whole process tree (joblib
workers included; pages shared between processes, such as torch's libraries, count once per
process), sampled every 0.1 s; beside it, the largest single process's peak (what
``/usr/bin/time -v`` reports as maximum resident set size). With ``--pss``, also the tree's
peak proportional set size (PSS: a page shared by n processes counts 1/n in each, so the sum
is the memory the tree really holds), sampled every 0.5 s. Reading it walks each process's
page tables under its memory-map lock (~1.3 ms for a 1 GB process), and the commands then ran
~2 s slower (tfidf-1: 24.4-24.7 s against 21.8-22.6 s): time with one run, PSS with another.

    python benchmarks/cpu_tier.py --data banking77
    python benchmarks/cpu_tier.py --data clinc150 --only default
    python benchmarks/cpu_tier.py --data banking77 --json runs/cpu_tier.json
    python benchmarks/cpu_tier.py --data banking77 --only default --pss   # memory, not time
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE = r"""
import sys, numpy as np
from cleanlab.filter import find_label_issues
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline, make_union
from labelcore.data import load_data
data = load_data(sys.argv[1]).train
texts, labels = list(data.texts), np.asarray(data.labels)
model = make_pipeline(
    make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
               TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
    LogisticRegression(C=30, max_iter=300))
pred_probs = cross_val_predict(model, texts, labels, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                               method="predict_proba")
issues = find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")
print(len(issues))
"""


def commands(data: str, out: Path) -> dict[str, list[str]]:
    audit = [sys.executable, "-c", "from audit.cli.app import main; main()", "find-issues", "--data", data]
    return {
        "baseline": [sys.executable, "-c", BASELINE, data],
        "tfidf-1": audit + ["-b", "tfidf-lr", "--rounds", "1", "-o", str(out / "tfidf-1")],
        "default": audit + ["-o", str(out / "default")],
    }


def peak_tree_rss(pid: int, stop: threading.Event, peak: list[int], *, pss: bool) -> None:
    """Fill ``peak`` with the tree's peak RSS, the largest process's and (``pss``) the tree's
    peak PSS, in bytes, until ``stop``."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for sample in itertools.count():
        if stop.is_set():
            break
        # PSS reads /proc/PID/smaps_rollup (~1.3 ms for a 1 GB process): every 0.5 s, so that
        # the sampler does not slow what it measures; RSS every 0.1 s
        with_pss = pss and sample % 5 == 0
        total = proportional = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    memory = p.memory_full_info() if with_pss else p.memory_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += memory.rss
                proportional += memory.pss if with_pss else 0
                peak[1] = max(peak[1], memory.rss)
        except psutil.NoSuchProcess:
            break
        peak[0] = max(peak[0], total)
        peak[2] = max(peak[2], proportional)
        stop.wait(0.1)


def run(name: str, command: list[str], work: Path, *, pss: bool = False) -> dict:
    cache = work / f"cache-{name}"
    env = {**os.environ, "LABEL_AUDIT_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop, peak = threading.Event(), [0, 0, 0]
    sampler = threading.Thread(target=peak_tree_rss, args=(process.pid, stop, peak), kwargs={"pss": pss}, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed ({process.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return {"name": name, "wall_seconds": round(wall, 1), "peak_rss_gb": round(peak[0] / 2**30, 2),
            "largest_process_gb": round(peak[1] / 2**30, 2), "tree_pss_gb": round(peak[2] / 2**30, 2) if pss else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="banking77")
    parser.add_argument("--only", action="append", choices=["baseline", "tfidf-1", "default"],
                        help="run only these (repeatable); the baseline always runs, ratios need it")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--pss", action="store_true",
                        help="also sample the process tree's PSS (slows the commands: not for timing)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cpu-tier-") as tmp:
        work = Path(tmp)
        todo = commands(args.data, work / "out")
        names = ["baseline", *[n for n in todo if n != "baseline" and (not args.only or n in args.only)]]
        rows = []
        for name in names:
            rows.append(run(name, todo[name], work, pss=args.pss))
            pss = f", tree PSS {rows[-1]['tree_pss_gb']:.2f} GB" if args.pss else ""
            print(f"{name:>9}: {rows[-1]['wall_seconds']:7.1f} s  peak RSS {rows[-1]['peak_rss_gb']:.2f} GB "
                  f"(largest process {rows[-1]['largest_process_gb']:.2f} GB{pss})", flush=True)
    base = rows[0]["wall_seconds"]
    load = os.getloadavg()[0]
    pss_head = (" peak PSS GB, process tree |", "---:|") if args.pss else ("", "")
    print(f"\n| command | wall s | x baseline | peak RSS GB, process tree | largest process GB |{pss_head[0]}"
          f"\n|---|---:|---:|---:|---:|{pss_head[1]}")
    for row in rows:
        row["ratio"] = round(row["wall_seconds"] / base, 3)
        pss = f" {row['tree_pss_gb']} |" if args.pss else ""
        print(f"| {row['name']} | {row['wall_seconds']} | {row['ratio']:.2f} | {row['peak_rss_gb']} | "
              f"{row['largest_process_gb']} |{pss}")
    print(f"\n{args.data}; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; "
          f"load average after the run {load:.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"data": args.data, "rows": rows, "load_after": load, "pss": args.pss}, indent=2))


if __name__ == "__main__":
    main()
