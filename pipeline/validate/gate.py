"""The batch acceptance gate: Great Expectations checks on small frames that DuckDB computes.

The attendance table can hold tens of millions of rows, so it never goes to pandas: each check's SQL aggregates
it to a frame of at most a few thousand rows (per school, day and year group), and a GX expectation is validated
on that frame. Every frame has a ``school_id`` column and every blocking expectation is judged row by row (a
"mostly" rule is computed per school in SQL), so the rows GX finds unexpected name the schools that failed: a
failed *blocking* check holds back those schools only (no new shortlist for them, exit code 3), and the others
publish. A failed *warning* is reported in run.json and does not block.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.config import as_set
from pipeline.contract import STAFF_FILES
from pipeline.sql import render_sql
from pipeline.warehouse import SCHOOL_DAYS_LOOKBACK, worker_connection

log = logging.getLogger(__name__)

DOCS_SITE = "gate"
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["school_id"]}
"""Every unexpected row, with its school: the gate holds back the schools whose rows failed."""
RESULTS_FOLDER = "results"

# Every file of the delivery that was read or refused (a required file that is missing is recorded as failed).
FILE_STATUS = """
select school_id, file, status from loads where load_id = $load_id and not list_contains($staff_files, file)
"""
"""(A file staff write that failed does not hold its school back: the run warns of it, pipeline.run.)"""
# A file staff write by hand ($staff_files) is not judged by its share: its unread lines are set aside, the rest used.
QUARANTINE_SHARE = """
select school_id, file, rows_quarantined::double / rows_read as quarantined_share
from loads
where load_id = $load_id and status = 'loaded' and rows_read > 0 and not list_contains($staff_files, file)
"""
STAFF_LINES = """
select school_id, file, rows_quarantined from loads
where load_id = $load_id and status = 'loaded' and list_contains($staff_files, file)
"""
ON_ROLL = """
on_roll as (
    select * from pupils
    where (admission_date is null or admission_date <= $as_of)
        and (leaving_date is null or leaving_date >= $as_of)
)"""
"""The pupils on roll on the night, as a query's first common table expression."""
CURRENT_ROLL = f"""{ON_ROLL},
current_roll as (select school_id, count(*) as roll from on_roll group by school_id)"""
ROLL_CHANGE = f"""
with {CURRENT_ROLL},
previous as (
    select school_id, arg_max(roll, recorded_at) as previous_roll from roll_history
    where load_id <> $load_id group by school_id
)
select c.school_id, c.roll, p.previous_roll, c.roll::double / p.previous_roll as roll_ratio
from current_roll as c left join previous as p using (school_id)
"""
# A pupil tonight's pupils.csv does not list is kept on roll (a delta may leave pupils out), so the roll check above
# cannot see a pupils.csv that lost its rows: this compares the lines the file had with the roll.
PUPILS_LISTED = f"""
with {CURRENT_ROLL}
select l.school_id, l.rows_read as pupils_listed, r.roll, l.rows_read::double / r.roll as listed_share
from loads as l join current_roll as r using (school_id)
where l.load_id = $load_id and l.file = 'pupils.csv' and l.status = 'loaded'
"""
# Two pupils on roll with one MIS number are one child under two UPNs: a temporary UPN the MIS replaced by a
# permanent one (the old record is kept on roll, since a pupils.csv may be a delta), or a typing slip.
SHARED_MIS_NUMBERS = f"""
with {ON_ROLL},
shared as (
    select school_id, count(*) as pupils from on_roll
    where mis_id is not null
    group by school_id, mis_id having count(*) > 1
)
select k.school_id, coalesce(sum(s.pupils), 0) as sharing_a_number
from (select distinct school_id from on_roll where mis_id is not null) as k
left join shared as s using (school_id)
group by k.school_id
"""
PUPILS_LISTED_SHARE = 0.5
"""A pupils.csv listing fewer than this share of the pupils on roll is warned of (a delta may; a cut export does)."""
# School days are looked for in the last $lookback_days calendar days (pipeline.warehouse.SCHOOL_DAYS_LOOKBACK).
RECENT_DAYS = """
with days as (
    select school_id, date
    from (select distinct school_id, date from attendance where date <= $as_of and date > $as_of::date - $lookback_days)
    qualify row_number() over (partition by school_id order by date desc) <= 20
),
on_roll as (
    select d.school_id, d.date, p.upn, coalesce(p.year_group, '?') as year_group
    from days as d join pupils as p using (school_id)
    where (p.admission_date is null or p.admission_date <= d.date)
        and (p.leaving_date is null or p.leaving_date >= d.date)
),
marked as (
    select distinct a.school_id, a.date, a.upn from attendance as a join days using (school_id, date)
)
select o.school_id, o.date, o.year_group, count(*) as pupils_on_roll, count(m.upn) as pupils_with_marks,
    count(m.upn)::double / count(*) as marked_share
from on_roll as o left join marked as m using (school_id, date, upn)
group by all
"""
STALE_N = """
with days as (
    select school_id, date, row_number() over (partition by school_id order by date desc) as days_back
    from (select distinct school_id, date from attendance where date <= $as_of and date > $as_of::date - $lookback_days)
)
select a.school_id,
    count(*) filter (where a.mark = 'N' and d.days_back > 5)::double
        / nullif(count(*) filter (
            where a.category in ('present', 'approved_activity', 'authorised', 'unauthorised')
        ), 0)
        as stale_n_share
from attendance as a join days as d using (school_id, date)
where d.days_back <= 60 and a.date > $as_of::date - $lookback_days
group by a.school_id
"""
# Each school's share of results of one type inside the plausible range (results that are not numbers aside: a
# number as every query reads one, pipeline/sql/grades.sql).
RESULTS_IN_RANGE = render_sql("""{% from "grades.sql" import number -%}
select school_id, count(*) as results,
    count(*) filter (where value between $min_value and $max_value)::double / count(*) as share_in_range
from (
    select school_id, {{ number("result") }} as value from assessments
    where result_type = $result_type and date <= $as_of
)
where value is not null
group by school_id
""")
SCORES_READ = render_sql("""{% from "grades.sql" import number -%}
{% set decimal_comma = "value is null and regexp_full_match(result, '[0-9]+,[0-9]+|[0-9]+([.,][0-9]+)? ?%')" -%}
select school_id, result_type, count(*) as results,
    avg((value is null)::integer) as not_number_share,
    min(regexp_replace(regexp_replace(left(result, 20), '[0-9]', '9', 'g'), '[A-Za-z]', 'x', 'g'))
        filter (where value is null) as example_shape,
    count(*) filter (where {{ decimal_comma }}) as decimal_comma_results,
    min(regexp_replace(left(result, 20), '[0-9]', '9', 'g')) filter (where {{ decimal_comma }}) as decimal_comma_shape
from (
    select school_id, result_type, result, {{ number("result") }} as value from assessments
    where list_contains($result_types, result_type) and date <= $as_of and result is not null
)
group by school_id, result_type
""")
"""Per school and score type (KS2 scaled scores, CAT4 standard age scores), the share of its results that are not
numbers as every query reads one (``104``, ``104.5``), with the shape of one (each digit shown as 9, each letter as
x: ``999,9``, never the value itself). A score written with a decimal comma (``104,0``, as Excel set to a European
language saves it) or a % sign reads as no result, and the range checks above never see it."""
NO_NUMBER_SHARE = 0.5
"""Above this share of a school's scores of one type not reading as numbers, the gate warns."""
DECIMAL_COMMAS_READ = f"""
select school_id, result_type, decimal_comma_results, decimal_comma_shape
from ({SCORES_READ})
where not_number_share <= $most
"""
"""Per school and score type, how many of its scores are written with a decimal comma or a % sign (``104,5``, ``95%``):
numbers a reader meant, which read as no result. Unlike a code for no result (``A`` for absent), no such score is
right, so any share is told; where over half the scores are not numbers at all, the check of :data:`SCORES_READ`
tells it already."""
SCORES = {"ks2_scaled": "KS2 scaled scores", "cat4_sas": "CAT4 standard age scores"}
"""The score types whose results must be numbers, as the checks and notes name them."""
GRADES_READ = render_sql("""{% from "grades.sql" import grade -%}
with results as (
    select school_id, subject, result, subject in ('English', 'Reading', 'Maths') as is_core,
        ({{ grade("result") }}) is not null as graded
    from assessments where result_type in ('working_at', 'target') and date <= $as_of
)
select school_id, count(*) filter (where is_core) as core, list(distinct subject order by subject) as subjects,
    coalesce(avg(case when is_core then (not graded)::integer end), 0) as no_grade_share,
    min(result) filter (where is_core and not graded) as no_grade_example
from results
group by school_id
""")
"""Per school with working-at or target results, how many are for a subject the features read (English, Reading,
Maths), the subjects of all of them, and the share of those for a core subject that read as no grade, with one:
a school whose MIS names the subjects otherwise ("MA"), or writes grades as words ("Expected Standard"), has every
gap to target read as no data."""
NO_GRADE_SHARE = 0.5
"""Above this share of a school's English, Reading and Maths working-at and target results reading as no grade, the
gate warns (a few blanks or "X" for absent are usual)."""
NEGATIVE_POINTS = """
select school_id, count(*) as incidents, count(*) filter (where points < 0) as negative
from behaviour where date <= $as_of
group by school_id having count(*) >= $least_incidents
"""
"""Per school with a behaviour record to speak of, how many incidents carry negative points: an MIS that writes every
point as a positive number (the incident's type saying which are negative) gives every pupil 0 negative points."""
LEAST_INCIDENTS = 50
NO_MARK_DAYS = 9999
"""The days since the latest attendance mark of a school with no mark at all on or before the night."""
# Days from each school's latest attendance mark to the night (a school with no mark at all: $no_mark days).
LATEST_MARKS = """
select p.school_id, coalesce(datediff('day', max(a.date), $as_of::date), $no_mark) as days_since_last_mark
from (select distinct school_id from pupils) as p
left join attendance as a on a.school_id = p.school_id and a.date <= $as_of
group by p.school_id
"""
# For each school with marks, the school days (days another school has a mark) in the last $lookback_days after its
# latest mark: its export stopped, or a holiday of its own, while the other schools' marks move on.
MARKS_BEHIND_OTHERS = """
with days as (
    select distinct school_id, date from attendance where date <= $as_of and date > $as_of::date - $lookback_days
),
latest as (select school_id, max(date) as last_mark from days group by school_id)
select l.school_id, count(distinct d.date) as school_days_missed
from latest as l
left join days as d on d.school_id <> l.school_id and d.date > l.last_mark
group by l.school_id
"""
DAYS_BEHIND_OTHERS = 2
"""Days the other schools have marked after a school's latest mark before the run warns (an INSET day is one)."""
FILES_CHECK = "every file delivered was read, pupils.csv and attendance.csv among them"
MARKS_WITHIN_DAYS = 14
"""A school's attendance must reach this close to the night: a half-term a week apart from the other schools' is
allowed, an export that stopped (or yesterday's files delivered again for a fortnight) is not."""
RECORD_ROLLS = f"""
insert into roll_history
with {CURRENT_ROLL}
select school_id, $load_id, $as_of, roll, now()::timestamp from current_roll where list_contains($schools, school_id)
"""


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    expectation: Callable[[], Any]
    blocking: bool
    params: dict[str, object] = field(default_factory=dict)
    shown: Callable[[Any], str] = str
    """How the value a school failed the check with reads in the school's reason for being held back ("" for
    nothing): in words and units, never a raw share or a sentinel."""


NO_ROWS = "no rows to check"
"""Said after the name of a check whose frame was empty (no school has what it checks: no CAT4 scores, or none that
is a number): it passed only in that nothing was judged, and run.json and report.html say so."""


@dataclass
class CheckResult:
    name: str
    """The check's name; with ``(no rows to check)`` after it when there was nothing to judge (:data:`NO_ROWS`)."""
    blocking: bool
    success: bool
    rows_checked: int
    unexpected: int
    examples: list[Any]
    schools_failed: dict[str, str | None] = field(default_factory=dict)
    """School -> the first unexpected value of its rows (the value of the column checked), as the check shows it
    (:attr:`Check.shown`; None where GX named no row), for a failed check."""


@dataclass
class GateResult:
    checks: list[CheckResult]
    docs: Future[float] | None = None
    """The data docs being built in the background (to the seconds it took), if ``run_gate`` was given an executor
    for them."""

    @property
    def passed(self) -> bool:
        return all(c.success for c in self.checks if c.blocking)

    @property
    def failed_blocking(self) -> list[CheckResult]:
        return [c for c in self.checks if c.blocking and not c.success]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.blocking and not c.success]

    def failed_schools(self) -> dict[str, list[CheckResult]]:
        """School -> the blocking checks it failed (a school not named passed every blocking check)."""
        failed: dict[str, list[CheckResult]] = {}
        for check in self.failed_blocking:
            for school in check.schools_failed:
                failed.setdefault(school, []).append(check)
        return failed


def checks(max_quarantined_share: float = 0.05, roll_tolerance: float = 0.10) -> list[Check]:
    """The gate's checks; thresholds come from the settings."""
    import great_expectations as gx

    e: Any = gx.expectations
    return [
        Check(
            FILES_CHECK,
            FILE_STATUS,
            lambda: e.ExpectColumnValuesToNotBeInSet(column="status", value_set=["failed"]),
            blocking=True,
            params={"staff_files": list(STAFF_FILES)},
        ),
        Check(
            f"no file has more than {as_set(max_quarantined_share)} of its rows quarantined",
            QUARANTINE_SHARE,
            lambda: e.ExpectColumnValuesToBeBetween(
                column="quarantined_share", min_value=0, max_value=max_quarantined_share
            ),
            blocking=True,
            params={"staff_files": list(STAFF_FILES)},
            shown=lambda share: f"{share:.1%} of a file's rows",
        ),
        Check(
            f"every line of the files staff write ({', '.join(STAFF_FILES)}) was read",
            STAFF_LINES,
            lambda: e.ExpectColumnValuesToBeBetween(column="rows_quarantined", min_value=0, max_value=0),
            blocking=False,
            params={"staff_files": list(STAFF_FILES)},
            shown=lambda lines: f"{lines} line{'' if lines == 1 else 's'} set aside, listed in quarantine.csv",
        ),
        Check(
            f"roll size within {as_set(roll_tolerance)} of the last night the school was published",
            ROLL_CHANGE,
            lambda: e.ExpectColumnValuesToBeBetween(
                column="roll_ratio", min_value=1 - roll_tolerance, max_value=1 + roll_tolerance
            ),
            blocking=True,
            shown=lambda ratio: (
                f"tonight's roll is {ratio:.1%} of that night's: if pupils really left or joined (their leaving and "
                "admission dates say so), raise roll_tolerance in the settings for one night to accept it"
            ),
        ),
        Check(
            "tonight's pupils.csv lists pupils (one with a header row and no pupil lost its rows)",
            PUPILS_LISTED,
            lambda: e.ExpectColumnValuesToBeBetween(column="pupils_listed", min_value=1),
            blocking=True,
            shown=lambda _: "no pupil in it; the pupils on roll would be kept as they were: export it again",
        ),
        Check(
            f"tonight's pupils.csv lists at least {PUPILS_LISTED_SHARE:.0%} of the pupils on roll",
            PUPILS_LISTED,
            lambda: e.ExpectColumnValuesToBeBetween(column="listed_share", min_value=PUPILS_LISTED_SHARE),
            blocking=False,
            shown=lambda share: (
                f"it lists {_share_shown(share)}; those it leaves out are kept on roll (a delta may leave "
                "pupils out; an export cut short does too)"
            ),
        ),
        Check(
            "each pupil on roll has an MIS number (Adno) of their own",
            SHARED_MIS_NUMBERS,
            lambda: e.ExpectColumnValuesToBeBetween(column="sharing_a_number", min_value=0, max_value=0),
            blocking=False,
            shown=lambda pupils: (
                f"{int(pupils)} pupils on roll share one with another UPN: one child counted twice (a "
                "temporary UPN replaced by a permanent one?); deliver the old UPN with a leaving date"
            ),
        ),
        Check(
            "no school day in the last 20 is missing for a whole year group",
            RECENT_DAYS,
            lambda: e.ExpectColumnValuesToBeBetween(column="pupils_with_marks", min_value=1),
            blocking=True,
            shown=lambda _: "",  # the value is always 0: the check's name says it
        ),
        Check(
            "pupils on roll have a mark for at least 98% of the last 20 school days",
            RECENT_DAYS,
            lambda: e.ExpectColumnValuesToBeBetween(column="marked_share", min_value=0.98, mostly=0.95),
            blocking=False,
        ),
        Check(
            "N marks older than 5 school days are under 0.5% of possible sessions",
            STALE_N,
            lambda: e.ExpectColumnValuesToBeBetween(column="stale_n_share", min_value=0, max_value=0.005),
            blocking=False,
        ),
        Check(
            f"every school's attendance marks reach within {MARKS_WITHIN_DAYS} days of the night",
            LATEST_MARKS,
            lambda: e.ExpectColumnValuesToBeBetween(
                column="days_since_last_mark", min_value=0, max_value=MARKS_WITHIN_DAYS
            ),
            blocking=True,
            params={"no_mark": NO_MARK_DAYS},
            shown=_days_shown,
        ),
        Check(
            f"no school's attendance marks stop more than {DAYS_BEHIND_OTHERS} school days before the other schools'",
            MARKS_BEHIND_OTHERS,
            lambda: e.ExpectColumnValuesToBeBetween(
                column="school_days_missed", min_value=0, max_value=DAYS_BEHIND_OTHERS
            ),
            blocking=False,
            shown=lambda days: (
                f"the other schools have marks for {int(days)} school days after its latest: a holiday of its own, or "
                f"its export has stopped (it is held back at {MARKS_WITHIN_DAYS} days)"
            ),
        ),
        Check(
            "working-at and target results are for English, Reading or Maths, the subjects the features read",
            GRADES_READ,
            lambda: e.ExpectColumnValuesToBeBetween(column="core", min_value=1),
            blocking=False,
            shown=lambda _: "none is, so every gap to target reads as no data; mentor check names the subjects",
        ),
        Check(
            f"at least {1 - NO_GRADE_SHARE:.0%} of the English, Reading and Maths working-at and target results read "
            "as grades (9-1, U, or the primary steps)",
            GRADES_READ,
            lambda: e.ExpectColumnValuesToBeBetween(column="no_grade_share", min_value=0, max_value=NO_GRADE_SHARE),
            blocking=False,
            shown=lambda share: f"{share:.0%} read as no grade, so their gaps to target read as no data",
        ),
        Check(
            "behaviour points are negative for negative behaviour (some incidents have negative points)",
            NEGATIVE_POINTS,
            lambda: e.ExpectColumnValuesToBeBetween(column="negative", min_value=1),
            blocking=False,
            params={"least_incidents": LEAST_INCIDENTS},
            shown=lambda _: "no incident has negative points, so no pupil's behaviour counts",
        ),
        *(
            Check(
                f"at least {1 - NO_NUMBER_SHARE:.0%} of each school's {words} are numbers (written as digits: 104, "
                "104.5)",
                SCORES_READ,
                lambda: e.ExpectColumnValuesToBeBetween(
                    column="not_number_share", min_value=0, max_value=NO_NUMBER_SHARE
                ),
                blocking=False,
                params={"result_types": [kind]},
                shown=lambda share: (
                    f"{share:.0%} are not, so they read as no result and their range is not checked (a decimal comma "
                    "or a % sign?); mentor check shows how they are written"
                ),
            )
            for kind, words in SCORES.items()
        ),
        *(
            Check(
                f"no {words[:-1]} of a school is written with a decimal comma or a % sign (104,5 or 95%)",
                DECIMAL_COMMAS_READ,
                lambda: e.ExpectColumnValuesToBeBetween(column="decimal_comma_results", min_value=0, max_value=0),
                blocking=False,
                params={"result_types": [kind], "most": NO_NUMBER_SHARE},
                shown=lambda n: (
                    f"{n:,} {'is' if n == 1 else 'are'}, so {'it reads' if n == 1 else 'they read'} as no result; "
                    "mentor check shows how they are written"
                ),
            )
            for kind, words in SCORES.items()
        ),
        Check(
            "99% of each school's KS2 scaled scores are between 80 and 120",
            RESULTS_IN_RANGE,
            lambda: e.ExpectColumnValuesToBeBetween(column="share_in_range", min_value=0.99, max_value=1),
            blocking=True,
            params={"result_type": "ks2_scaled", "min_value": 80, "max_value": 120},
            shown=lambda share: f"{share:.1%} are",
        ),
        Check(
            "99% of each school's CAT4 standard age scores are between 59 and 141",
            RESULTS_IN_RANGE,
            lambda: e.ExpectColumnValuesToBeBetween(column="share_in_range", min_value=0.99, max_value=1),
            blocking=True,
            params={"result_type": "cat4_sas", "min_value": 59, "max_value": 141},
            shown=lambda share: f"{share:.1%} are",
        ),
    ]


def run_gate(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    as_of: dt.date,
    max_quarantined_share: float = 0.05,
    roll_tolerance: float = 0.10,
    docs_dir: Path | None = None,
    background: Executor | None = None,
) -> GateResult:
    """Run every check on what is loaded; ``GateResult.failed_schools`` says which schools failed which checks.

    The checks' frames are computed by DuckDB in a thread of their own, from a connection of their own, while Great
    Expectations validates the frames computed before them. With ``background``, the data docs are built there
    once the checks have run (``GateResult.docs`` says when they are done); without it, before returning.

    With ``docs_dir``, Great Expectations data docs are built there (``index.html``; one page per check and run,
    kept across runs so a data lead can see the history). The validation results behind the pages are kept as JSON
    in ``docs_dir/results`` (GX builds the index from them and drops pages it has no result for). The frames
    checked are aggregates (per school, day and year group), so the docs hold no names or UPNs; they are created
    owner-only all the same.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    checks_to_run = checks(max_quarantined_share, roll_tolerance)
    queries = ThreadPoolExecutor(1, "mentor-gate-queries")
    reader = worker_connection(con)
    frames: dict[str, Future[pd.DataFrame]] = {}  # two checks read the same frame
    keys = []
    for check in checks_to_run:
        params = {"load_id": load_id, "as_of": as_of, "lookback_days": SCHOOL_DAYS_LOOKBACK, **check.params}
        used = {k: v for k, v in params.items() if f"${k}" in check.sql}
        key = check.sql + repr(sorted(used.items()))
        if key not in frames:
            frames[key] = queries.submit(lambda sql, values: reader.execute(sql, values).df(), check.sql, used)
        keys.append(key)
    docs: Future[float] | None = None
    rendered: list[Any] = []  # the validation results and suites to render into data docs, all at once at the end
    old_umask = os.umask(0o077)  # data docs and their results are owner-only
    try:
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
        if docs_dir is not None:
            config.stores[config.validation_results_store_name] = {
                "class_name": "ValidationResultsStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str((docs_dir / RESULTS_FOLDER).resolve()),
                },
            }
        context = gx.get_context(project_config=config, mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if docs_dir is not None:
            context.add_data_docs_site(
                DOCS_SITE,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir.resolve()),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        batches = context.data_sources.add_pandas("warehouse").add_dataframe_asset("frames")
        definition = batches.add_batch_definition_whole_dataframe("frame")
        run_id = RunIdentifier(run_name=f"as of {as_of} (load {load_id[:8]})")
        results = []
        for check, key in zip(checks_to_run, keys, strict=True):
            frame = frames[key].result()
            if frame.empty:  # nothing to judge: said so, not told as a pass
                results.append(CheckResult(f"{check.name} ({NO_ROWS})", check.blocking, True, 0, 0, []))
                log.info("gate: %s: %s, nothing judged", check.name, NO_ROWS)
                continue
            title = _title(check)
            suite = context.suites.add(gx.ExpectationSuite(name=title, expectations=[check.expectation()]))
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=title, data=definition, suite=suite)
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(name=title, validation_definitions=[validation], result_format=RESULT_FORMAT)
            )
            run = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
            result_id, suite_result = next(iter(run.run_results.items()))
            rendered += [result_id, ExpectationSuiteIdentifier(name=suite_result.suite_name)]
            outcome = suite_result.results[0]
            detail = outcome.result or {}
            success = bool(outcome.success)
            results.append(
                CheckResult(
                    check.name,
                    check.blocking,
                    success,
                    int(detail.get("element_count", len(frame))),
                    int(detail.get("unexpected_count", 0) or 0),
                    [_plain(v) for v in (detail.get("partial_unexpected_list") or [])[:5]],
                    {} if success else _schools_failed(detail, frame, check.shown),
                )
            )
            if success or check.blocking:  # a blocking failure is told as the reason its schools are held back
                log.info("gate: %s: %s", check.name, "passed" if success else "FAILED")
            else:
                log.warning("gate: %s: not met (a warning: the schools publish): %s", check.name,
                            _schools_shown(results[-1].schools_failed))  # fmt: skip
    finally:
        os.umask(old_umask)
        queries.shutdown(cancel_futures=True)  # waits for a query under way (an error stopped the checks early)
        reader.close()
    if docs_dir is not None and rendered:
        if background is None:
            _build_docs(context, rendered)
        else:
            docs = background.submit(_build_docs, context, rendered)
    return GateResult(results, docs)


def marks_behind(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, str]:
    """Each school whose attendance marks do not reach within ``MARKS_WITHIN_DAYS`` of the night (the run holds it
    back), with how far they fall short in words: for the stage commands, which build and score a night regardless."""
    rows = con.execute(LATEST_MARKS, {"as_of": as_of, "no_mark": NO_MARK_DAYS}).fetchall()
    return {str(school): _days_shown(days) for school, days in sorted(rows) if days > MARKS_WITHIN_DAYS}


def _share_shown(share: float) -> str:
    """A share as a percentage, to a tenth below 10% ("0.5%": one pupil of 207 read "0%").

    >>> _share_shown(0.25), _share_shown(1 / 207), _share_shown(0.0)
    ('25%', '0.5%', '0%')
    """
    return f"{share:.0%}" if share >= 0.1 or share == 0 else f"{share:.1%}"


def _days_shown(days: int) -> str:
    return "no mark on or before the night" if days >= NO_MARK_DAYS else f"its latest mark {days} days before"


def record_rolls(con: duckdb.DuckDBPyConnection, load_id: str, as_of: dt.date, schools: list[str]) -> None:
    """Record the roll sizes of the schools published tonight: the next night's roll check compares with them (a
    school held back keeps the roll of the last night it was published, so a bad roll never becomes the norm)."""
    con.execute(RECORD_ROLLS, {"load_id": load_id, "as_of": as_of, "schools": schools})


def _schools_failed(detail: dict[str, Any], frame: pd.DataFrame, shown: Callable[[Any], str]) -> dict[str, str | None]:
    """The schools of a failed check's unexpected rows, each with its first unexpected value as the check shows it;
    every school in the frame if GX named no row (a failure that cannot be pinned on a school holds them all back)."""
    failed: dict[str, str | None] = {}
    for row in detail.get("unexpected_index_list") or []:
        school = str(row.get("school_id"))
        value = next((v for k, v in row.items() if k != "school_id"), None)
        if school not in failed:
            failed[school] = None if value is None else shown(_plain(value))
    if not failed:
        failed = {str(school): None for school in frame["school_id"].unique()}
    return failed


def _schools_shown(schools: dict[str, str | None]) -> str:
    """The schools that failed a check, each with its value in words where there is one."""
    return ", ".join(f"school {school}" + (f" ({shown})" if shown else "") for school, shown in schools.items())


def _build_docs(context: Any, rendered: list[Any]) -> float:
    """Render the data docs of ``rendered`` (validation results and suites), owner-only; return the seconds taken."""
    started = time.perf_counter()
    # The process's umask, even when this runs in a worker thread: the files the nightly run writes meanwhile are
    # owner-only whatever it is (pipeline.safe_csv), and nothing else sets it then.
    old_umask = os.umask(0o077)
    try:
        context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=rendered)
    finally:
        os.umask(old_umask)
    return time.perf_counter() - started


def _title(check: Check) -> str:
    """A check's name as a data docs page title (GX turns dots into folders, and % breaks links)."""
    name = check.name.replace("0.5%", "half a percent").replace("%", " percent").replace(".", ",")
    return name if check.blocking else f"warning - {name}"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
