#!/usr/bin/env python3
"""The overhead of the per-request operability work on the peer harness's Q2.

Runs the peer harness (../shared/bench/peer, PostGraphile v4 beside opsgraph on the same
database) once per round for each of two opsgraph binaries, interleaved
(base, new, base, new, ...): BASE built without the work being measured, NEW with it. Each
binary gets its own database loaded with the harness's seed (a binary only serves a database
whose migrations it knows), and PostGraphile in the same run is the control for the
machine's drift. Prints, per connection count, the medians of opsgraph's rps, p95 and server
CPU per request for each binary, and NEW/BASE both raw and relative to PostGraphile.

Both run with a cost budget too large to refuse anything (the limiter still charges and
refunds every request): the benchmark measures the work, not the throttling.

usage: BASE_BIN=... NEW_BIN=... PG_URL=postgres://postgres@127.0.0.1:PORT/postgres \
       [PEER_DIR=../shared/bench/peer] [ROUNDS=3] [CONNS="1 8"] [QUERY=Q2] [DURATION=15] \
       scripts/bench-overhead.py
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER = Path(os.environ.get("PEER_DIR", ROOT.parent / "shared" / "bench" / "peer"))
WORK = Path(os.environ.get("OVERHEAD_WORK", Path(tempfile.gettempdir()) / "overhead-bench"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CONNS = os.environ.get("CONNS", "1 8")
QUERY = os.environ.get("QUERY", "Q2")


def run(which: str, binary: str, first: bool) -> list[dict]:
    work = WORK / which
    work.mkdir(parents=True, exist_ok=True)
    shared_node = WORK / "node"
    if not (work / "node").exists():
        shared_node.mkdir(parents=True, exist_ok=True)
        (work / "node").symlink_to(shared_node)
    env = dict(os.environ, OPSGRAPH_BIN=binary, DB_NAME=f"opsgraph_overhead_{which}", WORK_DIR=str(work),
               PHASES="setup main" if first else "main", QUERIES=QUERY, CONNS=CONNS, ROUNDS="1",
               OPSGRAPH_COST_BUDGET="1000000000000", OPSGRAPH_COST_REFILL_PER_SEC="1000000000000")
    before = set((work / "results").glob("*")) if (work / "results").exists() else set()
    subprocess.run([sys.executable, str(PEER / "bench.py")], env=env, check=True, stdout=sys.stderr)
    new = sorted(set((work / "results").glob("*")) - before)
    rows = [json.loads(line) for line in (new[-1] / "runs.jsonl").read_text().splitlines() if line.strip()]
    for r in rows:
        r["which"] = which
    return rows


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows) if rows else float("nan")


def main() -> None:
    bins = {"base": os.environ["BASE_BIN"], "new": os.environ["NEW_BIN"]}
    rows: list[dict] = []
    for rnd in range(ROUNDS):
        for which in ("base", "new"):
            rows += run(which, bins[which], rnd == 0)
    (WORK / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"# {QUERY}: opsgraph BASE vs NEW, {ROUNDS} interleaved rounds (medians)\n")
    bad = sum(r.get("bad", 0) for r in rows)
    print(f"non-200 or error responses: {bad}\n")
    print("| conns | binary | rps | p95 ms | server CPU ms/req | PostGraphile rps (same runs) | rps / PostGraphile |")
    print("|---|---|---|---|---|---|---|")
    for c in sorted({r["conns"] for r in rows}):
        rel = {}
        for which in ("base", "new"):
            ops = [r for r in rows if r["which"] == which and r["conns"] == c and r["system"] == "opsgraph"]
            pgb = [r for r in rows if r["which"] == which and r["conns"] == c and r["system"] == "postgraphile"]
            rel[which] = (med(ops, "rps"), med(ops, "p95_ms"), med(ops, "cpu_server_ms_per_req"), med(pgb, "rps"))
            rps, p95, cpu, ctl = rel[which]
            print(f"| {c} | {which} | {rps:.1f} | {p95:.1f} | {cpu:.2f} | {ctl:.1f} | {rps / ctl:.3f} |")
        (b_rps, b_p95, b_cpu, b_ctl), (n_rps, n_p95, n_cpu, n_ctl) = rel["base"], rel["new"]
        print(f"| {c} | NEW/BASE | {n_rps / b_rps:.3f} | {n_p95 / b_p95:.3f} | {n_cpu / b_cpu:.3f} | "
              f"{n_ctl / b_ctl:.3f} | {(n_rps / n_ctl) / (b_rps / b_ctl):.3f} |")


if __name__ == "__main__":
    main()
