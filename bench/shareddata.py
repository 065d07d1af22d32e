#!/usr/bin/env python3
"""CPython baselines for the IpcPs shared-data benchmarks (see docs/performance.md).

Measures, with the same method as bench/shareddata.bench.ps1 (best of RUNS runs):
  * multiprocessing.Array('d', N) indexing: reads a[i] and writes a[i] = x per second (the synchronized wrapper,
    which takes its RLock on each access), and the same on RawArray (no lock);
  * bulk copy of a large double Array: a[:] (the idiomatic slice, which builds a list) and ctypes.memmove into a
    preallocated ctypes array (the floor), in GB/s;
  * shared_memory.ShareableList item reads sl[i] and writes sl[i] = i per second.

Usage: python3 bench/shareddata.py [--json] [--elements N] [--bulk-elements N]
Benchmarks only: nothing here is asserted anywhere.
"""
import argparse
import ctypes
import json
import multiprocessing as mp
import platform
import sys
import time
from multiprocessing import shared_memory

RUNS = 5


def best_rate(body, count, runs=RUNS):
    best = 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        body()
        best = max(best, count / (time.perf_counter() - t0))
    return best


def indexing(arr, n):
    def reads():
        for i in range(n):
            arr[i]

    def writes():
        for i in range(n):
            arr[i] = 1.5

    return best_rate(reads, n), best_rate(writes, n)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--elements", type=int, default=200_000)
    parser.add_argument("--bulk-elements", type=int, default=8 * 1024 * 1024)
    args = parser.parse_args()
    n, big = args.elements, args.bulk_elements

    arr = mp.Array("d", n)
    raw = mp.RawArray("d", n)
    sync_reads, sync_writes = indexing(arr, n)
    raw_reads, raw_writes = indexing(raw, n)

    large = mp.Array("d", big)
    nbytes = big * 8
    slice_gbps = best_rate(lambda: large[:], nbytes, runs=3) / 1e9
    dest = (ctypes.c_double * big)()
    src = large.get_obj()
    memmove_gbps = best_rate(lambda: ctypes.memmove(dest, src, nbytes), nbytes) / 1e9

    sl = shared_memory.ShareableList(list(range(n // 10)))
    m = n // 10

    def sl_reads():
        for i in range(m):
            sl[i]

    def sl_writes():
        for i in range(m):
            sl[i] = i

    sl_read_rate, sl_write_rate = best_rate(sl_reads, m), best_rate(sl_writes, m)
    sl.shm.close()
    sl.shm.unlink()

    result = {
        "runtime": f"CPython {platform.python_version()}",
        "elements": n, "bulk_elements": big,
        "array_sync": {"reads_per_second": sync_reads, "writes_per_second": sync_writes},
        "array_raw": {"reads_per_second": raw_reads, "writes_per_second": raw_writes},
        "bulk": {"slice_gb_per_second": slice_gbps, "memmove_gb_per_second": memmove_gbps},
        "shareable_list": {"items": m, "reads_per_second": sl_read_rate, "writes_per_second": sl_write_rate},
    }
    if args.json:
        print(json.dumps(result))
    else:
        json.dump(result, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
