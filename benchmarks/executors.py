"""`audit find-issues` with the local and the Ray executor, in one run, cold caches.

Each executor runs the real command in a subprocess with its own empty ``LABEL_AUDIT_CACHE``
(a temporary folder), so every fold is trained; the wall time is the whole command's (loading,
Ray start and shutdown included). The two runs' ``issues.csv`` flags and scores are compared.

    python benchmarks/executors.py --data banking77 -b tfidf-lr
    python benchmarks/executors.py --data banking77 -b tfidf-lr -b minilm-lr --json runs/executors.json

Only the ``label_issues`` detector runs by default (``--detector`` to change): the other
detectors do not train folds and take the same time with either executor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def run(executor: str, args: argparse.Namespace, work: Path) -> dict:
    out, cache = work / f"out-{executor}", work / f"cache-{executor}"
    command = [sys.executable, "-c", "from audit.cli.app import main; main()", "find-issues",
               "--data", args.data, "--folds", str(args.folds), "--rounds", str(args.rounds),
               "--executor", executor, "--jobs", str(args.jobs), "-o", str(out)]
    for b in args.backend:
        command += ["-b", b]
    for d in args.detector:
        command += ["--detector", d]
    env = {**os.environ, "LABEL_AUDIT_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{executor} run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary = json.loads((out / "summary.json").read_text())
    return {"executor": executor, "wall_seconds": wall, "find_issues_seconds": summary["wall_seconds"],
            "fold_seconds": {b["name"]: b["seconds"] for b in summary["backends"]},
            "n_label_issues": summary["n_label_issues"], "issues": pd.read_csv(out / "issues.csv")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="banking77")
    parser.add_argument("-b", "--backend", action="append", default=None)
    parser.add_argument("--detector", action="append", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="local executor's processes (Ray gets this machine's CPUs)")
    parser.add_argument("--executors", default="local,ray")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    args.backend = args.backend or ["tfidf-lr"]
    args.detector = args.detector or ["label_issues"]

    rows = []
    with tempfile.TemporaryDirectory(prefix="executors-") as tmp:
        for executor in args.executors.split(","):
            rows.append(run(executor, args, Path(tmp)))
            print(f"{executor}: {rows[-1]['wall_seconds']:.1f} s", file=sys.stderr, flush=True)
    base = rows[0]["issues"].set_index("example_id").sort_index()
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), no GPU used")
    print(f"data {args.data}, backends {', '.join(args.backend)}, {args.folds} folds, {args.rounds} round(s), "
          f"detectors {', '.join(args.detector)}, cold cache per run\n")
    print("| executor | command wall time (s) | find_issues (s) | flags | same flags as " + rows[0]["executor"] + " | max |Δ label_quality| |")
    print("|---|---|---|---|---|---|")
    report = []
    for r in rows:
        other = r["issues"].set_index("example_id").sort_index()
        same = bool((other["is_label_issue"] == base["is_label_issue"]).all())
        delta = float(np.max(np.abs(other["label_quality"].to_numpy() - base["label_quality"].to_numpy())))
        print(f"| {r['executor']} | {r['wall_seconds']:.1f} | {r['find_issues_seconds']:.1f} | {r['n_label_issues']} | {same} | {delta:.2g} |")
        report.append({k: v for k, v in r.items() if k != "issues"} | {"same_flags": same, "max_quality_delta": delta})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": {k: v for k, v in vars(args).items() if k != "json"}, "runs": report},
                                        indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
