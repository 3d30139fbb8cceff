"""Benchmark: `gocua generate` (residents with their 60-day history) in residents per second.

For each backend and size, makes a fresh database (a temporary SQLite file; a throw-away
PostgreSQL database created with psql at 127.0.0.1:5432 as user postgres, dropped afterwards),
migrates it, loads Tây Ninh's 2023 units, then times `gocua generate` alone and prints the wall
time, residents/s, rows written and the generator's peak RSS and CPU time. Each step runs as a
subprocess of the installed `gocua`, exactly as a user would run it.

    .venv/bin/python bench/generate.py                      # 100k and 1.2M on SQLite
    .venv/bin/python bench/generate.py --postgres           # ... and on PostgreSQL
    .venv/bin/python bench/generate.py --sizes 100000 --backends postgres

PostgreSQL is included when DATABASE_URL is set or with --postgres. Target on this 2-core
machine: 1.2M residents in under 5 minutes on PostgreSQL; 100k well under 2 minutes on SQLite.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOCUA = ROOT / ".venv" / "bin" / "gocua"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", "5432", "postgres"


def _run(args: list[str], env: dict[str, str]) -> tuple[str, float, float, float]:
    """Run a command; return (stdout, wall seconds, CPU seconds, peak RSS in MB) of that child."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.stderr.write(err.read())
            raise SystemExit(f"{' '.join(args[1:3])} failed with status {proc.returncode}")
        cpu = usage.ru_utime + usage.ru_stime
        return out.read(), wall, cpu, usage.ru_maxrss / 1024


def _psql(sql: str) -> None:
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    subprocess.run(
        ["psql", "-q", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", "postgres", "-c", sql],
        check=True,
        env=env,
    )


def measure(backend: str, people: int, seed: int, province: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOCUA_SQLITE_PATH")}
    env.setdefault("GOCUA_SECRET_KEY", "bench-only-key")
    tmp = tempfile.TemporaryDirectory(prefix="gocua-bench-gen-")
    database = f"gocua_bench_gen_{os.getpid()}"
    if backend == "postgres":
        _psql(f"DROP DATABASE IF EXISTS {database}")
        _psql(f"CREATE DATABASE {database}")
        env["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
    else:
        env["GOCUA_SQLITE_PATH"] = str(Path(tmp.name) / "bench.sqlite3")
        env["GOCUA_VAR_DIR"] = tmp.name
    try:
        _run([str(GOCUA), "migrate", "--no-input"], env)
        _run([str(GOCUA), "units", "load", "--province", province, "--edition", "2023"], env)
        out, wall, cpu, peak_mb = _run(
            [
                str(GOCUA),
                "generate",
                "--province",
                province,
                "--edition",
                "2023",
                "--people",
                str(people),
                "--seed",
                str(seed),
                "--json",
            ],
            env,
        )
    finally:
        if backend == "postgres":
            _psql(f"DROP DATABASE IF EXISTS {database}")
        tmp.cleanup()
    summary = json.loads(out)
    rows = sum(
        summary[k]
        for k in (
            "residents",
            "households",
            "stage_events",
            "visits",
            "visit_outcomes",
            "follow_ups",
            "home_support_requests",
        )
    )
    return {
        "backend": backend,
        "people": people,
        "seconds": round(wall, 1),
        "residents_per_s": round(people / wall),
        "rows": rows,
        "rows_per_s": round(rows / wall),
        "generator_cpu_s": round(cpu, 1),
        "peak_rss_mb": round(peak_mb),
        "phases_s": summary["timings"],
        "registration_rate": summary["registration_rate"],
        "activation_rate": summary["activation_rate"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100000,1200000",
        help="comma-separated numbers of residents (default 100000,1200000)",
    )
    parser.add_argument(
        "--backends",
        help="comma-separated: sqlite,postgres (default: sqlite, "
        "plus postgres when DATABASE_URL is set or --postgres)",
    )
    parser.add_argument("--postgres", action="store_true", help="include PostgreSQL")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--province", default="72")
    parser.add_argument("--json", action="store_true", help="one JSON object per run on stdout")
    args = parser.parse_args()
    if args.backends:
        backends = args.backends.split(",")
    else:
        backends = ["sqlite"]
        if args.postgres or os.environ.get("DATABASE_URL", "").startswith("postgres"):
            backends.append("postgres")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    if not args.json:
        print(
            f"{'backend':<9} {'residents':>10} {'seconds':>8} {'residents/s':>12} "
            f"{'rows':>10} {'rows/s':>8} {'gen CPU s':>9} {'RSS MB':>7} {'reg':>6} {'act':>6}  "
            "phases (s)"
        )
    for backend in backends:
        for people in sizes:
            result = measure(backend, people, args.seed, args.province)
            if args.json:
                print(json.dumps(result), flush=True)
                continue
            print(
                f"{backend:<9} {people:>10,} {result['seconds']:>8.1f} "
                f"{result['residents_per_s']:>12,} {result['rows']:>10,} "
                f"{result['rows_per_s']:>8,} {result['generator_cpu_s']:>9.1f} "
                f"{result['peak_rss_mb']:>7,} "
                f"{result['registration_rate']:>6.1%} {result['activation_rate']:>6.1%}  "
                + " ".join(f"{k} {v}" for k, v in result["phases_s"].items()),
                flush=True,
            )


if __name__ == "__main__":
    main()
