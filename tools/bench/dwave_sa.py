#!/usr/bin/env python3
"""D-Wave's simulated annealing (dwave-samplers) on a G-set/rudy Max-Cut file
for a wall-clock budget: repeated calls of SimulatedAnnealingSampler (READS
reads of SWEEPS sweeps each, seeds 1, 2, ...) while the next call still fits
in the budget, as boltzcl's restarts do. Prints one JSON object: best_cut,
seconds, time_to_target (when the best cut first reached --target, at the
end of the call that found it; null if never), sweeps, spin_updates_per_s.
"""
import argparse
import json
import sys
import time

import dimod
from dwave.samplers import SimulatedAnnealingSampler


def read_gset(path):
    with open(path) as f:
        n, m = map(int, f.readline().split())
        edges = []
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                edges.append((int(parts[0]) - 1, int(parts[1]) - 1, float(parts[2])))
    if len(edges) != m:
        sys.exit(f"{path}: header says {m} edges, found {len(edges)}")
    return n, edges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("problem")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--reads", type=int, default=2)
    ap.add_argument("--sweeps", type=int, default=10000)
    ap.add_argument("--target", type=float, default=None, help="cut value for time_to_target")
    a = ap.parse_args()
    n, edges = read_gset(a.problem)
    # Max-Cut as an Ising model: minimising sum w s_i s_j maximises the cut,
    # cut = (W - E) / 2 with W the total weight.
    J = {}
    for i, j, w in edges:
        key = (min(i, j), max(i, j))
        J[key] = J.get(key, 0.0) + w
    bqm = dimod.BinaryQuadraticModel.from_ising({v: 0.0 for v in range(n)}, J)
    total = sum(J.values())
    sampler = SimulatedAnnealingSampler()
    best, ttt, sweeps, calls, last = None, None, 0, 0, 0.0
    t0 = time.perf_counter()
    while True:
        now = time.perf_counter() - t0
        if calls and now + last > a.seconds:
            break
        c0 = time.perf_counter()
        ss = sampler.sample(bqm, num_reads=a.reads, num_sweeps=a.sweeps, seed=calls + 1)
        last = time.perf_counter() - c0
        calls += 1
        sweeps += a.sweeps
        cut = (total - ss.first.energy) / 2
        if best is None or cut > best:
            best = cut
        if a.target is not None and ttt is None and best >= a.target:
            ttt = time.perf_counter() - t0
    sec = time.perf_counter() - t0
    print(json.dumps({
        "best_cut": best, "seconds": sec, "time_to_target": ttt, "sweeps": sweeps,
        "calls": calls, "reads": a.reads,
        "spin_updates_per_s": sweeps * a.reads * n / sec,
        "dwave_samplers": __import__("dwave.samplers").samplers.__version__,
    }))


if __name__ == "__main__":
    main()
