#!/usr/bin/env python3
"""CPython baseline for the IpcPs manager benchmark (see docs/performance.md, "Managers").

Measures round trips per second on a multiprocessing.Manager().dict() proxy from a Python loop, with the same
method as bench/managers.bench.ps1 (one warm-up, then best of RUNS runs):
  * sets: d[i % 1000] = i
  * gets: x = d[i % 1000]
The manager is CPython's default (a server process on a Unix socket, pickle, an HMAC auth key).

Usage: python3 bench/managers.py [--json] [--ops N]
Benchmarks only: nothing here is asserted anywhere.
"""
import argparse
import json
import multiprocessing as mp
import platform
import sys
import time

RUNS = 5


def best_rate(body, count, runs=RUNS):
    body()
    best = 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        body()
        best = max(best, count / (time.perf_counter() - t0))
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ops", type=int, default=20_000)
    args = parser.parse_args()
    n = args.ops
    with mp.Manager() as manager:
        d = manager.dict()

        def sets():
            for i in range(n):
                d[i % 1000] = i

        def gets():
            for i in range(n):
                d[i % 1000]

        set_rate = best_rate(sets, n)
        get_rate = best_rate(gets, n)
    result = {"runtime": f"CPython {platform.python_version()}", "ops": n,
              "dict": {"sets_per_second": set_rate, "gets_per_second": get_rate}}
    if args.json:
        print(json.dumps(result))
    else:
        json.dump(result, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
