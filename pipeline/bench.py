"""`make bench`: how fast and how lean a nightly run is, against the floor of DuckDB alone.

For each trust size (default 5,000, 20,000 and 50,000 pupils; generated once with `mentor sample` and cached under
``data/bench/``) it times, each measurement in its own process (so peak memory is that process's own):

(a) the floor: DuckDB alone reading every school's attendance CSV and counting, per pupil, possible, present,
    authorised and unauthorised sessions;
(a2) storing once ("store"): DuckDB alone reading the same files into one table of a new database file and
    committing it; no check, no line numbers, no lineage, nothing else written: the least any first load that keeps
    the marks must do, so "store/floor" is the lowest full/floor or ingest/floor any design of ingest could show;
(b) the full nightly run (`run_pipeline`) on a fresh warehouse, on the exports as they stood the night before;
(c) an incremental night: the same warehouse, the same exports plus one more school day of marks (each
    attendance.csv repeats the year to date, as most MIS report builders export it);
(d) the same night delivered as a delta, which the export contract also allows: on a copy of (b)'s warehouse,
    attendance.csv holds only the new school day's marks (the other files as in (c));
(e) with ``--engine spark`` (``make bench ENGINE=spark``), after (b) each time: the same full night with the
    features, scores and shortlists on Spark in local mode (``local[*]``; docs/spark.md), on a fresh warehouse.
    Ingest and the gate are the same code as in (b); the line under it sets the Spark stage beside DuckDB's.

It prints each measurement's wall time (median of ``--repeat`` runs), the process's CPU time (all its threads; on a
shared machine steadier than the wall time), peak RSS and rows per second, and the ratios
(a2)/(a), (b)/(a), (c)/(b), (d)/(b) and (e)/(b), and beside (b)/(a) the first load's ingest stage alone against
the floor ("ingest/floor": the floor reads only the attendance files, ingest reads every file and checks every
line; the rest of (b) is the gate, features, scores, lists and report, fixed costs of any night) and against
storing once ("ingest/store"); under each run, the time of
each of its stages (from its ``run.json``; "start-up" is the rest of the wall time: importing the libraries and
opening the warehouse), and what a worker thread did alongside them (importing the later stages' libraries during
ingest, drawing the trend charts during the features).
Nothing here is asserted: the figures are for people to read. On a terminal a progress bar (on stderr) shows which
measurement is running.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from pipeline.codes import ATTENDANCE_CODES
from pipeline.progress import steps

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATA = ROOT / "data" / "bench"
LAST_DAY = "2025-11-07"
LAST_DAY_UK = "07/11/2025"
PUPILS_PER_SCHOOL = 1000
DELTA = "last-night-delta"
ENGINES = ("duckdb", "spark")
SPARK_MASTER = "local[*]"
ENGINE_STAGE = "features, scores and shortlists"
"""The stage of a run that ``--engine`` moves; ingest, the gate and report.html stay in DuckDB and Python."""

FLOOR_SQL = """
select upn,
    count(*) filter (where category in ('present', 'approved_activity', 'authorised', 'unauthorised')) as possible,
    count(*) filter (where category in ('present', 'approved_activity')) as present,
    count(*) filter (where category = 'authorised') as authorised,
    count(*) filter (where category = 'unauthorised') as unauthorised
from (
    select m.upn, c.category
    from (
        select upn, mark from read_csv($utf8_files, all_varchar = true, normalize_names = true, encoding = 'utf-8')
        union all
        select upn, mark from read_csv($latin1_files, all_varchar = true, normalize_names = true,
                                       encoding = 'latin-1')
    ) as m
    join codes as c on c.code = m.mark
)
group by upn
"""
STORE_SQL = """
create table marks as
select * from read_csv($utf8_files, all_varchar = true, normalize_names = true, encoding = 'utf-8')
union all
select * from read_csv($latin1_files, all_varchar = true, normalize_names = true, encoding = 'latin-1')
"""
"""Storing once: the floor's files, every column as delivered, into one table (committed by the caller)."""


def exports_for(pupils: int) -> Path:
    """The cached trust of ``pupils`` pupils (generated on first use)."""
    schools = max(1, pupils // PUPILS_PER_SCHOOL)
    folder = BENCH_DATA / f"trust-{pupils}"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating a {pupils:,}-pupil trust in {folder} (once)", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, "-m", "pipeline", "sample", "--out", str(folder / "exports"),
             "--truth-out", str(folder / "truth"), "--schools", str(schools),
             "--pupils-per-school", str(PUPILS_PER_SCHOOL)],
            check=True,
        )  # fmt: skip
        night_before(folder / "exports", folder / "night-before")
        (folder / ".complete").write_text("ok\n")
    if not (folder / DELTA).exists():  # (trusts cached before the delta night was measured lack it)
        partial = folder / f"{DELTA}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        last_day_delta(folder / "exports", partial)
        partial.rename(folder / DELTA)
    return folder


def night_before(exports: Path, target: Path) -> None:
    """The same exports without the last school day's marks: what the MIS delivered the night before."""
    _copy_attendance(exports, target, last_day=False)


def last_day_delta(exports: Path, target: Path) -> None:
    """The same exports with only the last school day's marks in attendance.csv: the last night delivered as a
    delta (the contract allows a delta or the year to date); the other files are as they were."""
    _copy_attendance(exports, target, last_day=True)


def _copy_attendance(exports: Path, target: Path, last_day: bool) -> None:
    shutil.copytree(exports, target)
    for path in target.glob("*/attendance.csv"):
        lines = path.read_bytes().splitlines(keepends=True)
        on_last_day = (LAST_DAY.encode(), LAST_DAY_UK.encode())
        kept = [lines[0]] + [line for line in lines[1:] if any(day in line for day in on_last_day) == last_day]
        path.write_bytes(b"".join(kept))


def measure(stage: str, folder: Path, work: Path) -> dict[str, Any]:
    """Run one measurement in this process; return seconds, rows, peak RSS (MB) and a run's stage times."""
    started = time.perf_counter()
    rows = 0
    stages: dict[str, float] = {}
    alongside: dict[str, float] = {}
    jvm_mb = 0.0
    if stage in ("floor", "store"):
        files = sorted((folder / "exports").glob("*/attendance.csv"))
        utf8 = [str(p) for p in files if _has_bom(p)]
        latin1 = [str(p) for p in files if str(p) not in utf8]
        if stage == "floor":
            con = duckdb.connect()
            con.execute("create table codes (code varchar, category varchar)")
            con.executemany(
                "insert into codes values (?, ?)", [(k, v.category.value) for k, v in ATTENDANCE_CODES.items()]
            )
            result = con.execute(FLOOR_SQL, {"utf8_files": utf8, "latin1_files": latin1}).fetchall()
            rows = sum(int(r[1]) for r in result)
        else:
            con = duckdb.connect(work / "store.duckdb")
            con.execute("begin")
            con.execute(STORE_SQL, {"utf8_files": utf8, "latin1_files": latin1})
            con.execute("commit")
            rows = int((con.execute("select count(*) from marks").fetchone() or (0,))[0])
            con.close()
    else:
        from pipeline.config import Settings
        from pipeline.run import run_pipeline

        exports = (
            folder / {"full": "night-before", "spark": "night-before", "incremental": "exports", "delta": DELTA}[stage]
        )
        if stage == "spark":
            from pipeline.spark import SparkEngine

            with SparkEngine(SPARK_MASTER, scratch_parent=work) as engine:
                outcome = run_pipeline(exports, work / "w.duckdb", work / "out", Settings(), engine=engine)
                jvm_mb = jvm_peak_mb()
        else:
            outcome = run_pipeline(exports, work / "w.duckdb", work / "out", Settings())
        if int(outcome.exit_code) != 0:
            raise SystemExit(f"{stage} run ended with exit code {int(outcome.exit_code)}: {outcome.report.status}")
        rows = int(outcome.report.totals["rows_read"])
        stages = dict(outcome.report.timings_seconds)
        alongside = dict(outcome.report.background_seconds)
    seconds = time.perf_counter() - started
    if stages:
        stages["start-up"] = seconds - stages.pop("total")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # every thread's, start-up included: steadier than wall time under load
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": rows,
        "peak_rss_mb": peak_mb,
        "stages": stages,
        "alongside": alongside,
        "jvm_peak_rss_mb": jvm_mb,
    }


def jvm_peak_mb() -> float:
    """The peak RSS of the Spark driver's JVM (a child process, not in this process's own peak), from Linux's
    ``/proc/<pid>/status`` (``VmHWM``); 0 where that cannot be read."""
    from pyspark import SparkContext

    gateway = getattr(SparkContext, "_gateway", None)
    try:
        status = Path(f"/proc/{gateway.proc.pid}/status").read_text()  # type: ignore[union-attr]
    except (AttributeError, OSError):
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _has_bom(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(3) == b"\xef\xbb\xbf"


def _child(stage: str, folder: Path, work: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-m", "pipeline.bench", "--child", stage, "--folder", str(folder), "--work", str(work)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def bench_size(pupils: int, repeat: int, engine: str = "duckdb") -> dict[str, dict[str, Any]]:
    folder = exports_for(pupils)
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "store": [], "full": [], "incremental": [], "delta": []}
    if engine == "spark":
        runs["spark"] = []
    with steps(len(runs) * repeat, f"{pupils:,} pupils") as step:

        def timed(stage: str, work: Path) -> None:
            runs[stage].append(_child(stage, folder, work))
            step(f"{stage} run {len(runs[stage])} of {repeat}, {runs[stage][-1]['seconds']:.1f} s")

        for _ in range(repeat):
            timed("floor", folder)
            with tempfile.TemporaryDirectory(dir=BENCH_DATA) as scratch:
                work, twin = Path(scratch) / "year-to-date", Path(scratch) / "delta"
                work.mkdir()
                timed("store", Path(scratch))
                timed("full", work)
                if engine == "spark":  # the same night on a fresh warehouse, beside the full run it repeats
                    (Path(scratch) / "spark").mkdir()
                    timed("spark", Path(scratch) / "spark")
                shutil.copytree(work, twin)  # the same warehouse and shortlists, for the delta night
                timed("incremental", work)
                timed("delta", twin)
    return {
        stage: {
            "seconds": statistics.median(r["seconds"] for r in results),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in results),
            "rows": results[0]["rows"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "jvm_peak_rss_mb": max(r["jvm_peak_rss_mb"] for r in results),
            "stages": {name: statistics.median(r["stages"][name] for r in results) for name in results[0]["stages"]},
            "alongside": {
                name: statistics.median(r["alongside"][name] for r in results) for name in results[0]["alongside"]
            },
        }
        for stage, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the nightly run against DuckDB alone.")
    parser.add_argument("--sizes", default="5000,20000,50000", help="trust sizes in pupils, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median time is shown")
    parser.add_argument(
        "--engine", choices=ENGINES, default="duckdb",
        help="spark: also run each full night with features, scores and shortlists on Spark local[*]",
    )  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.folder, args.work)))
        return
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    header = f"{'pupils':>7} {'stage':<12} {'seconds':>8} {'CPU s':>7} {'peak RSS MB':>11} {'rows':>12} {'rows/s':>11}"
    header += "  ratio"
    print(header)
    print("-" * len(header))
    for pupils in (int(s) for s in args.sizes.split(",")):
        figures = bench_size(pupils, args.repeat, args.engine)
        floor, store, full = figures["floor"], figures["store"], figures["full"]
        ingest = full["stages"].get("ingest", 0.0)
        ratios = {
            "floor": "",
            "store": f"store/floor {store['seconds'] / floor['seconds']:.2f}x",
            "full": f"full/floor {full['seconds'] / floor['seconds']:.2f}x, "
            f"ingest/floor {ingest / floor['seconds']:.2f}x, ingest/store {ingest / store['seconds']:.2f}x",
            "incremental": f"incremental/full {figures['incremental']['seconds'] / full['seconds']:.1%}",
            "delta": f"delta/full {figures['delta']['seconds'] / full['seconds']:.1%}",
        }
        if "spark" in figures:
            ratios["spark"] = f"spark/full {figures['spark']['seconds'] / full['seconds']:.2f}x"
        for stage, f in figures.items():
            rate = f["rows"] / f["seconds"] if f["seconds"] else 0.0
            print(f"{pupils:>7,} {stage:<12} {f['seconds']:>8.2f} {f['cpu_seconds']:>7.1f} {f['peak_rss_mb']:>11.0f} "
                  f"{f['rows']:>12,.0f} {rate:>11,.0f}  {ratios[stage]}", flush=True)  # fmt: skip
            if f["stages"]:
                print(" " * 21 + ", ".join(f"{name} {secs:.1f}s" for name, secs in f["stages"].items()), flush=True)
            if f["alongside"]:
                done = ", ".join(f"{name} {secs:.1f}s" for name, secs in f["alongside"].items())
                print(" " * 21 + f"in a worker thread alongside: {done}", flush=True)
            if stage == "spark":
                print(" " * 21 + engines_side_by_side(full["stages"], f["stages"]), flush=True)
                print(" " * 21 + f"the Spark driver's JVM (not in peak RSS): peak RSS {f['jvm_peak_rss_mb']:.0f} MB")


def engines_side_by_side(duckdb_stages: dict[str, float], spark_stages: dict[str, float]) -> str:
    """The stage the engine moves, DuckDB beside Spark (medians), and their ratio.

    >>> engines_side_by_side({ENGINE_STAGE: 4.0, "ingest": 9.0}, {ENGINE_STAGE: 60.0, "ingest": 9.5})
    'features, scores and shortlists: DuckDB 4.0 s, Spark local 60.0 s (15.0x); ingest 9.0 s and 9.5 s (same code)'
    """
    duck, spark = duckdb_stages[ENGINE_STAGE], spark_stages[ENGINE_STAGE]
    ratio = f"{spark / duck:.1f}x" if duck else "n/a"
    shared = (
        f"; ingest {duckdb_stages.get('ingest', 0.0):.1f} s and {spark_stages.get('ingest', 0.0):.1f} s (same code)"
    )
    return f"{ENGINE_STAGE}: DuckDB {duck:.1f} s, Spark local {spark:.1f} s ({ratio}){shared}"


if __name__ == "__main__":
    main()
