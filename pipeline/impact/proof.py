"""Proof, not hope: run the impact estimate on simulated trusts whose true mentoring effect is known.

For each seed and each effect, ``mentor sample`` writes a trust with that average effect of a learning mentor on
attendance, the exports are ingested into a fresh warehouse, and ``mentor impact``'s estimate is compared with the
truth: the average true effect of the mentees the estimate used (the simulation's register with and without
mentoring, from the same random draws). Reported per run: whether the 95% interval covers the truth, whether it
claims an effect (excludes 0), and the naive before/after change of the same mentees against the same truth.

``make impact-proof`` runs the slow version (python -m pipeline.impact.proof); tests/integration/test_impact.py a
small one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.impact.estimate import METHOD, NAIVE_METHOD, ImpactSettings, impact

OUTCOMES_CHECKED_AT_ZERO = ("attendance", "negative_behaviour_points", "attainment_gap")


def one_run(
    seed: int,
    effect: float,
    workdir: Path,
    schools: int = 2,
    pupils_per_school: int = 600,
    settings: ImpactSettings | None = None,
) -> dict[str, object]:
    """Generate, ingest and estimate one simulated trust; the estimate against the truth, as one record."""
    from pipeline.ingest import ingest
    from pipeline.sample import SampleSpec, generate_trust
    from pipeline.warehouse import connect

    exports, truth_dir = workdir / f"s{seed}-e{effect:g}", workdir / f"s{seed}-e{effect:g}-truth"
    spec = SampleSpec(seed=seed, schools=schools, pupils_per_school=pupils_per_school, mentoring_effect=effect)
    generate_trust(spec, exports, truth_dir)
    db = workdir / f"s{seed}-e{effect:g}.duckdb"
    con = connect(db, key=None)
    try:
        ingest(con, exports, today=spec.end_date + dt.timedelta(days=1))
        result = impact(con, settings)
    finally:
        con.close()
    record: dict[str, object] = {"seed": seed, "effect": effect}
    table = result.table
    if result.matched is None:
        record["note"] = "; ".join(result.notes)
        return record
    truth = pd.DataFrame(json.loads((truth_dir / "mentoring_effect.json").read_text(encoding="utf-8"))["mentees"])
    truth["school_id"] = truth["school_urn"].astype(str)
    truth["start_date"] = pd.to_datetime(truth["start_date"]).dt.date
    used = result.matched.mentees.merge(truth, on=["school_id", "start_date", "upn"], how="left", validate="1:1")
    used = used[used["effect_attendance"].notna()]
    true_effect = float(used["attendance_effect_pp"].mean())
    record |= {"mentees": len(used), "true_effect": true_effect}
    for outcome in OUTCOMES_CHECKED_AT_ZERO:
        for method, prefix in ((METHOD, ""), (NAIVE_METHOD, "naive_")):
            row = table[(table["outcome"] == outcome) & (table["barrier"] == "all") & (table["method"] == method)]
            if row.empty or pd.isna(row["estimate"].iloc[0]):
                continue
            estimate, low, high = (float(row[c].iloc[0]) for c in ("estimate", "ci_low", "ci_high"))
            key = f"{prefix}{outcome}"
            record |= {key: estimate, f"{key}_low": low, f"{key}_high": high, f"{key}_claims": low > 0 or high < 0}
            if outcome == "attendance":
                record[f"{key}_covers"] = low <= true_effect <= high
    return record


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per effect: runs, interval coverage of the true effect, how often an effect is claimed, the naive bias."""
    rows = []
    for effect, group in runs.groupby("effect"):
        row: dict[str, object] = {
            "effect": effect,
            "runs": len(group),
            "mean_mentees": round(float(group["mentees"].mean()), 1),
            "mean_true_effect": round(float(group["true_effect"].mean()), 3),
            "coverage": float(group["attendance_covers"].mean()),
            "claims_effect": float(group["attendance_claims"].mean()),
            "mean_estimate": round(float(group["attendance"].mean()), 3),
            "naive_coverage": float(group["naive_attendance_covers"].mean()),
            "mean_naive_bias": round(float((group["naive_attendance"] - group["true_effect"]).mean()), 3),
        }
        if effect == 0:
            for outcome in OUTCOMES_CHECKED_AT_ZERO[1:]:
                if f"{outcome}_claims" in group:
                    row[f"{outcome}_claims_effect"] = float(group[f"{outcome}_claims"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def prove(
    seeds: Sequence[int], effects: Sequence[float], schools: int = 2, pupils_per_school: int = 600
) -> pd.DataFrame:
    """Every (seed, effect) run, in a temporary folder that is removed afterwards."""
    records = []
    with tempfile.TemporaryDirectory(prefix="mentor-impact-proof-") as folder:
        for effect in effects:
            for seed in seeds:
                records.append(one_run(seed, effect, Path(folder), schools, pupils_per_school))
    return pd.DataFrame(records)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 3,5,8")
    parser.add_argument("--effects", default="0,3", help="average effects on attendance, percentage points")
    parser.add_argument("--schools", type=int, default=2)
    parser.add_argument("--pupils", type=int, default=600)
    parser.add_argument("--out", type=Path, default=None, help="also write every run to this CSV")
    args = parser.parse_args(argv)
    if "-" in args.seeds:
        first, last = (int(x) for x in args.seeds.split("-"))
        seeds = list(range(first, last + 1))
    else:
        seeds = [int(x) for x in args.seeds.split(",")]
    effects = [float(x) for x in args.effects.split(",")]
    runs = prove(seeds, effects, args.schools, args.pupils)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(runs.drop(columns=[c for c in runs.columns if c.endswith(("_low", "_high"))]).to_string(index=False))
        print()
        print(summarise(runs).to_string(index=False))
    if args.out is not None:
        from pipeline.safe_csv import write_csv

        write_csv(runs, args.out)


if __name__ == "__main__":
    main()
