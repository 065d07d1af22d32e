#!/usr/bin/env python3
"""CPython baselines for the IpcPs process benchmarks (see docs/performance.md, "Processes").

Measures, with a warm multiprocessing.Pool of WORKERS processes (started, and one map done, before timing):
  * per-item overhead on a trivial function (identity): Pool.map with chunksize=1 (one task per item, as
    Invoke-IpcPool sends them) and with the default chunksize (items batched), in ms per item;
  * a CPU-bound function, sequentially in this process and through the pool, and the speed-up; and the machine's
    own ceiling for that speed-up in the same minute: WORKERS independent processes (forked, nothing sent, no pool)
    each running its share of the same items at once, against the sequential run;
  * starting a process and getting its result (Process(target=put 1 in a Queue), start, get, join) with each start
    method (spawn, forkserver, fork), the median of --starts runs, after one warm-up run (forkserver starts its server).
Usage: python3 bench/processes.py [--json] [--items N] [--workers N] [--cpu-items N] [--cpu-loop N]
Benchmarks only: nothing here is asserted anywhere.
"""
import argparse
import json
import multiprocessing as mp
import platform
import sys
import time


def identity(x):
    return x


def busy(n):
    # The same work as the PowerShell workload: a loop of n additions of i % 7.
    s = 0
    for i in range(n):
        s += i % 7
    return s


def put_one(q):
    q.put(1)


def busy_share(n, count):
    for _ in range(count):
        busy(n)


def ceiling(workers, loop, items):
    # The most WORKERS processes can gain over one on this machine now: each runs its share of the items, nothing is
    # sent and no pool takes part (on a shared or virtual machine two "CPUs" may not give twice the work).
    ctx = mp.get_context('fork')
    procs = [ctx.Process(target=busy_share, args=(loop, items // workers)) for _ in range(workers)]
    t0 = time.perf_counter()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return time.perf_counter() - t0


def start_and_result(method, runs):
    ctx = mp.get_context(method)
    q = ctx.Queue()
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        p = ctx.Process(target=put_one, args=(q,))
        p.start()
        q.get()
        p.join()
        if i:   # the first run warms (forkserver starts its server then)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def timed(body):
    t0 = time.perf_counter()
    body()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--json', action='store_true')
    p.add_argument('--items', type=int, default=20000)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--cpu-items', type=int, default=40)
    p.add_argument('--cpu-loop', type=int, default=2000000)
    p.add_argument('--starts', type=int, default=9)
    a = p.parse_args()
    with mp.Pool(a.workers) as pool:
        pool.map(identity, range(100))   # warm
        one = timed(lambda: pool.map(identity, range(a.items), chunksize=1))
        batched = timed(lambda: pool.map(identity, range(a.items)))
        loops = [a.cpu_loop] * a.cpu_items
        seq = timed(lambda: [busy(n) for n in loops])
        par = timed(lambda: pool.map(busy, loops, chunksize=1))
    top = ceiling(a.workers, a.cpu_loop, a.cpu_items)
    result = {
        'runtime': f'CPython {platform.python_version()}',
        'workers': a.workers,
        'items': a.items,
        'map_chunksize1_ms_per_item': one * 1000 / a.items,
        'map_default_chunks_ms_per_item': batched * 1000 / a.items,
        'cpu_items': a.cpu_items,
        'cpu_sequential_s': seq,
        'cpu_pool_s': par,
        'cpu_speedup': seq / par,
        'cpu_ceiling_s': top,
        'cpu_ceiling_speedup': seq / top,
    }
    for method in ('spawn', 'forkserver', 'fork'):
        result[f'start_{method}_ms'] = start_and_result(method, a.starts)
    if a.json:
        json.dump(result, sys.stdout)
    else:
        for k, v in result.items():
            print(f'{k}: {v}')


if __name__ == '__main__':
    main()
