#!/usr/bin/env python3
"""The G-set table: boltzcl anneal against dwave-samplers' simulated annealing
with the same wall-clock budget per instance, the two alternating (which one
goes first alternates by instance), on the G-set graphs of a folder holding
G1..G81 files and best_known.csv (instance,nodes,edges,best_known_cut).

  tools/bench/gset.py FOLDER [--seconds 10] [--instances G1,G14,G43]
      [--boltzcl build/src/cli/boltzcl] [--sweeps 10000] [--dwave-sweeps 10000]

Prints a Markdown table: best-known cut, both best cuts, both times to 99.8%
of the best known (from boltzcl's energies over time and the end of the
dwave call that reached it), the ratios, and both spin-update rates.
"""
import argparse
import csv
import json
import os
import subprocess
import sys


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return json.loads(p.stdout)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--instances", default="")
    ap.add_argument("--boltzcl", default=os.path.join(here, "..", "..", "build", "src", "cli",
                                                      "boltzcl"))
    ap.add_argument("--sweeps", type=int, default=10000, help="boltzcl sweeps per anneal")
    ap.add_argument("--sweeps-max", type=int, default=0,
                    help="boltzcl: anneal k runs min(sweeps 2^k, this) sweeps (0: fixed length)")
    ap.add_argument("--replicas", type=int, default=0, help="boltzcl replicas (0: automatic)")
    ap.add_argument("--dwave-sweeps", type=int, default=10000)
    ap.add_argument("--dwave-reads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    best = {}
    with open(os.path.join(a.folder, "best_known.csv")) as f:
        for row in csv.DictReader(f):
            best[row["instance"]] = float(row["best_known_cut"])
    names = [s for s in a.instances.split(",") if s] or list(best)
    for name in names:
        if name not in best or not os.path.exists(os.path.join(a.folder, name)):
            sys.exit(f"{name}: no such graph or no best-known cut in {a.folder}")
    rows = []
    for k, name in enumerate(names):
        path = os.path.join(a.folder, name)
        target = 0.998 * best[name]
        bz_cmd = [a.boltzcl, "anneal", "--problem", path, "--maxcut", "--seconds", str(a.seconds),
                  "--sweeps", str(a.sweeps), "--seed", str(a.seed), "--json"]
        if a.replicas:
            bz_cmd += ["--replicas", str(a.replicas)]
        if a.sweeps_max:
            bz_cmd += ["--sweeps-max", str(a.sweeps_max)]
        dw_cmd = [sys.executable, os.path.join(here, "dwave_sa.py"), path, "--seconds",
                  str(a.seconds), "--sweeps", str(a.dwave_sweeps), "--reads", str(a.dwave_reads),
                  "--target", str(target)]
        order = [("bz", bz_cmd), ("dw", dw_cmd)]
        if k % 2:
            order.reverse()
        res = {}
        for tag, cmd in order:
            res[tag] = run_json(cmd)
        bz, dw = res["bz"], res["dw"]
        bz_t = next((t for t, cut in bz["trace"] if cut >= target), None)
        rows.append((name, best[name], bz["best_cut"], dw["best_cut"], bz_t,
                     dw["time_to_target"], bz["spin_updates_per_s"], dw["spin_updates_per_s"]))
        print(f"{name}: boltzcl {bz['best_cut']:.0f} dwave {dw['best_cut']:.0f} "
              f"(best known {best[name]:.0f})", file=sys.stderr, flush=True)

    def f(t):
        return "-" if t is None else f"{t:.2f}"

    print(f"| instance | best known | boltzcl cut | dwave cut | boltzcl/dwave cut | "
          f"boltzcl t99.8 s | dwave t99.8 s | time ratio | boltzcl updates/s | dwave updates/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ge = reach = 0
    for name, bk, bc, dc, bt, dt, bu, du in rows:
        ratio = f"{bt / dt:.2f}" if bt is not None and dt else "-"
        print(f"| {name} | {bk:.0f} | {bc:.0f} | {dc:.0f} | {bc / dc:.4f} | {f(bt)} | {f(dt)} | "
              f"{ratio} | {bu:.3g} | {du:.3g} |")
        ge += bc >= dc
        reach += bc >= bk
    print(f"\nboltzcl >= dwave on {ge} of {len(rows)}; boltzcl at the best known on {reach} of "
          f"{len(rows)}; {a.seconds:g} s per instance and solver")


if __name__ == "__main__":
    main()
