#!/usr/bin/env python3
"""CPython baselines for the IpcPs messaging benchmarks (see docs/performance.md).

Measures, between two processes of this interpreter (the producer a multiprocessing.Process):
  * small integers through multiprocessing.Queue, messages per second (every value checked, in order);
  * small dicts (the counterpart of a PowerShell [pscustomobject]) through multiprocessing.Queue, made in the
    producer's loop, and built beforehand (a list made before the clock starts, then put one by one);
  * the median round trip of a small int through two multiprocessing.Queues and an echo process (ping-pong);
  * 1 MiB bytes payloads through a one-way multiprocessing.Pipe: recv_bytes() (a new object each) and
    recv_bytes_into() (a reused buffer), bytes per second.
The clock starts when the producer is running and told to go, and stops at the last message.

Usage: python3 bench/messaging.py [--json] [--count N] [--objects N] [--payloads N]
Benchmarks only: nothing here is asserted anywhere.
"""
import argparse
import json
import multiprocessing as mp
import platform
import sys
import time

SIZE = 1 << 20


def _produce_ints(q, go, n):
    go.wait()
    put = q.put
    for i in range(n):
        put(i)


def _produce_objects(q, go, n):
    go.wait()
    for i in range(n):
        q.put({"Id": i, "Name": f"item {i}", "Size": i * 3, "Ok": True})


def _produce_prebuilt_objects(q, go, n):
    objects = [{"Id": i, "Name": f"item {i}", "Size": i * 3, "Ok": True} for i in range(n)]   # before go: not timed
    go.wait()
    put = q.put
    for o in objects:
        put(o)


def _produce_bytes(conn, go, n):
    payload = bytearray(SIZE)
    go.wait()
    for i in range(n):
        payload[0] = payload[-1] = i & 0xFF
        conn.send_bytes(payload)
    conn.close()


def queue_rate(target, n, check):
    q, go = mp.Queue(), mp.Event()
    p = mp.Process(target=target, args=(q, go, n))
    p.start()
    time.sleep(0.5)   # let the producer start: only the messages are timed (go is set below)
    t0 = time.perf_counter()
    go.set()
    get = q.get
    for i in range(n):
        check(get(), i)
    elapsed = time.perf_counter() - t0
    p.join()
    return n / elapsed


def _check_int(v, i):
    if v != i:
        raise SystemExit(f"message {i} was {v!r}")


def _check_obj(v, i):
    if v["Id"] != i:
        raise SystemExit(f"object {i} was {v!r}")


def pipe_rate(n, into):
    r, w = mp.Pipe(duplex=False)
    go = mp.Event()
    p = mp.Process(target=_produce_bytes, args=(w, go, n))
    p.start()
    w.close()
    time.sleep(0.5)
    buf = bytearray(SIZE)
    t0 = time.perf_counter()
    go.set()
    for i in range(n):
        if into:
            got = r.recv_bytes_into(buf)
            b = buf
        else:
            b = r.recv_bytes()
            got = len(b)
        if got != SIZE or b[0] != (i & 0xFF) or b[SIZE - 1] != (i & 0xFF):
            raise SystemExit(f"payload {i} damaged")
    elapsed = time.perf_counter() - t0
    p.join()
    return n * SIZE / elapsed


def _echo(a, b, n):
    for _ in range(n):
        b.put(a.get())


def queue_pingpong(n):
    """Median round trip of one small int through two mp.Queues and an echo process, in microseconds."""
    a, b = mp.Queue(), mp.Queue()
    p = mp.Process(target=_echo, args=(a, b, n + 100))
    p.start()
    for i in range(100):   # warm-up
        a.put(i)
        b.get()
    rounds = []
    for i in range(n):
        t0 = time.perf_counter()
        a.put(i)
        if b.get() != i:
            raise SystemExit(f"ping-pong {i} out of order")
        rounds.append(time.perf_counter() - t0)
    p.join()
    rounds.sort()
    return rounds[len(rounds) // 2] * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--payloads", type=int, default=1000)
    a = ap.parse_args()
    res = {
        "runtime": f"CPython {platform.python_version()}",
        "queue_small_ints_per_s": queue_rate(_produce_ints, a.count, _check_int),
        "queue_objects_per_s": queue_rate(_produce_objects, a.objects, _check_obj),
        "queue_prebuilt_objects_per_s": queue_rate(_produce_prebuilt_objects, a.objects, _check_obj),
        "queue_pingpong_median_us": queue_pingpong(min(a.count // 100, 5000)),
        "pipe_1mib_bytes_per_s": pipe_rate(a.payloads, into=False),
        "pipe_1mib_into_bytes_per_s": pipe_rate(a.payloads, into=True),
    }
    if a.json:
        json.dump(res, sys.stdout, indent=2)
    else:
        for k, v in res.items():
            print(f"{k:32} {v}")


if __name__ == "__main__":
    main()
