#!/usr/bin/env python3
"""CPython baselines for the IpcPs synchronisation benchmarks (see docs/performance.md).

Measures, with the same method as bench/IpcPs.Bench:
  * uncontended multiprocessing.Lock acquire/release pairs per second (best of 5 runs);
  * Event ping-pong between two processes with two multiprocessing.Event objects:
    round-trip latency, median and p99 in microseconds.

Usage: python3 bench/sync.py [--json] [--iterations N] [--round-trips N]
Benchmarks only: nothing here is asserted anywhere.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import sys
import time

RUNS = 5
WAIT_TIMEOUT = 30.0   # seconds; a wait this long means the other side died: give up instead of hanging


def lock_pairs_per_second(iterations, runs=RUNS, style="bound"):
    """Best of RUNS: uncontended acquire/release pairs per second on one multiprocessing.Lock."""
    lock = mp.Lock()
    best = 0.0
    for _ in range(runs):
        if style == "bound":
            # The fastest way to write it in Python: bound methods in locals.
            acquire, release = lock.acquire, lock.release
            t0 = time.perf_counter()
            for _ in range(iterations):
                acquire()
                release()
            elapsed = time.perf_counter() - t0
        elif style == "attribute":
            t0 = time.perf_counter()
            for _ in range(iterations):
                lock.acquire()
                lock.release()
            elapsed = time.perf_counter() - t0
        else:   # "with"
            t0 = time.perf_counter()
            for _ in range(iterations):
                with lock:
                    pass
            elapsed = time.perf_counter() - t0
        best = max(best, iterations / elapsed)
    return best


def _pong(ping, pong, total):
    for _ in range(total):
        if not ping.wait(WAIT_TIMEOUT):
            sys.exit(2)
        ping.clear()
        pong.set()


def percentile(sorted_values, p):
    """Nearest-rank percentile (the same definition as the C# bench)."""
    k = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[k - 1]


def ping_pong(round_trips, warmup):
    """Round-trip latencies (µs) of ROUND_TRIPS ping-pongs with a child process over two Events."""
    ctx = mp.get_context("fork")
    ping, pong = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_pong, args=(ping, pong, warmup + round_trips), daemon=True)
    child.start()
    samples = []
    clock = time.perf_counter_ns
    try:
        for i in range(warmup + round_trips):
            t0 = clock()
            ping.set()
            if not pong.wait(WAIT_TIMEOUT):
                raise RuntimeError("the pong process stopped answering")
            pong.clear()
            t1 = clock()
            if i >= warmup:
                samples.append((t1 - t0) / 1000.0)
    finally:
        child.join(WAIT_TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join()
    samples.sort()
    return {
        "round_trips": round_trips,
        "median_us": percentile(samples, 50),
        "p99_us": percentile(samples, 99),
        "min_us": samples[0],
        "mean_us": sum(samples) / len(samples),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--iterations", type=int, default=5_000_000, help="lock pairs per run (default 5000000)")
    parser.add_argument("--round-trips", type=int, default=20_000, help="ping-pong round trips (default 20000)")
    parser.add_argument("--warmup", type=int, default=1_000, help="ping-pong round trips not measured (default 1000)")
    args = parser.parse_args()

    lock_bound = lock_pairs_per_second(args.iterations, style="bound")
    lock_attr = lock_pairs_per_second(args.iterations, style="attribute")
    lock_with = lock_pairs_per_second(args.iterations, style="with")
    pp = ping_pong(args.round_trips, args.warmup)
    result = {
        "runtime": f"CPython {platform.python_version()}",
        "pid": os.getpid(),
        "lock": {
            "iterations": args.iterations,
            "runs": RUNS,
            "pairs_per_second": lock_bound,
            "pairs_per_second_attribute_calls": lock_attr,
            "pairs_per_second_with_statement": lock_with,
        },
        "ping_pong": pp,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['runtime']}")
    print(f"  Lock acquire/release, bound methods   {lock_bound / 1e6:10.2f} M pairs/s  (best of {RUNS} x {args.iterations})")
    print(f"  Lock acquire/release, lock.acquire()  {lock_attr / 1e6:10.2f} M pairs/s")
    print(f"  Lock 'with lock: pass'                {lock_with / 1e6:10.2f} M pairs/s")
    print(f"  Event ping-pong round trip            median {pp['median_us']:.1f} us, p99 {pp['p99_us']:.1f} us"
          f"  (N={pp['round_trips']}, min {pp['min_us']:.1f}, mean {pp['mean_us']:.1f})")


if __name__ == "__main__":
    main()
