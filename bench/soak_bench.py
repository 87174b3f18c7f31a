"""Soak: moderate Locust load for a long time; web and worker memory must level off.

    .venv/bin/python -m bench.soak_bench [--minutes 30] [--users 15] [--every 30]

The same stack, seed and users as bench.load_bench. Every ``--every`` seconds the
resident memory (VmRSS in /proc) of every gunicorn process (the master and its
workers) and every Huey consumer process is read. The first samples, while the
processes warm up (imports, caches, connection pools: ``--warm-up`` minutes, 2.5 by
default, at most a third of the run), are the floor's side: the bench compares the last
sample with the first one after the warm-up, per group (web, worker), summed over the
group's processes.
Target (issue 16): growth < 10 % per group over 30 minutes; no error but 409 slot_taken.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from bench.load import production_stack, rss_by_process, run_locust, warm_up

GROWTH_TARGET = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="how long (default 30)")
    parser.add_argument("--users", type=int, default=15, help="simulated users (default 15)")
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--warm-up", type=float, default=2.5, help="minutes left out first")
    args = parser.parse_args()
    if args.users < 1 or args.minutes <= 0 or args.every <= 0:
        raise SystemExit("--users, --minutes and --every must be positive")
    settle = min(args.warm_up, args.minutes / 3) * 60

    folder = Path(tempfile.mkdtemp(prefix="kairos-soak-bench-"))
    with production_stack(customers=args.users) as (stack, _url, _redis, setup):
        print(
            f"stack at {stack.url}; {args.users} users for {args.minutes:g} min, RSS every "
            f"{args.every:g} s, the first {settle / 60:.1f} min left out; Locust files in {folder}"
        )
        warm_up(stack.url, setup)
        result: dict = {}
        load = threading.Thread(
            target=lambda: result.update(
                run_locust(stack.url, setup, users=args.users, minutes=args.minutes, folder=folder)
            )
        )
        load.start()
        samples = sample_rss(stack, load, args.every)
        load.join()
    failed = print_series(samples, settle)
    errors = result.get("errors", [])
    print(f"load: {result.get('outcomes')}; errors other than 409: {errors or 'none'}")
    if errors:
        failed.append(f"{sum(e['count'] for e in errors)} errors other than 409 slot_taken")
    if failed:
        raise SystemExit("FAILED: " + "; ".join(failed))


def sample_rss(stack, load: threading.Thread, every: float) -> list[tuple[float, dict]]:
    """(seconds since start, {(kind, pid): RSS in KiB}) every ``every`` seconds while
    the load runs, and once at its end."""
    began, samples = time.monotonic(), []
    while True:
        samples.append((time.monotonic() - began, rss_by_process(stack)))
        load.join(timeout=every)
        if not load.is_alive():
            return samples


def print_series(samples: list[tuple[float, dict]], settle: float) -> list[str]:
    """Print RSS per process and per group over time; return the groups that grew too much."""
    columns = sorted({key for _, rss in samples for key in rss})
    print("\nRSS in MiB (per process, then per group)")
    print(
        "   t(s) " + " ".join(f"{kind[:3]}:{pid:<7}" for kind, pid in columns) + "    web  worker"
    )
    for at, rss in samples:
        cells = " ".join(f"{rss[k] / 1024:11.1f}" if k in rss else f"{'-':>11}" for k in columns)
        print(f"{at:7.0f} {cells} {_group(rss, 'web'):6.1f} {_group(rss, 'worker'):7.1f}")
    settled = [rss for at, rss in samples if at >= settle]
    if len(settled) < 2:
        return ["too few samples after the warm-up: run longer or sample more often"]
    failed = []
    for kind in ("web", "worker"):
        start, end = _group(settled[0], kind), _group(settled[-1], kind)
        growth = (end - start) / start if start else float("nan")
        verdict = "ok" if growth < GROWTH_TARGET else "FAILED"
        print(
            f"{kind:6}: {start:.1f} MiB after the warm-up -> {end:.1f} MiB at the end: "
            f"{growth:+.1%} (target < {GROWTH_TARGET:.0%}) {verdict}"
        )
        if not growth < GROWTH_TARGET:
            failed.append(f"{kind} RSS grew {growth:+.1%}")
    return failed


def _group(rss: dict, kind: str) -> float:
    return sum(v for (k, _pid), v in rss.items() if k == kind) / 1024


if __name__ == "__main__":
    main()
