"""Row checks as DuckDB SQL expressions, generated from the contract (column names are the contract's own).

Each column gets a *parsed* expression (the typed value, or NULL when the text does not parse) and a list of
*problems*: a condition, and the reason a data lead reads in the quarantine report. Problems on keys and codes
quarantine the row; problems on descriptive pupil fields (sex, SEN, year group, yes/no flags, dates of birth and
admission) load the pupil with that value blank and report it, so one odd cell never takes a child off the list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.codes import ATTENDANCE_CODES, WITHDRAWN_CODES
from pipeline.contract import (
    DECISION_SYNONYMS,
    DECISIONS,
    EXCLUSION_TYPES,
    RESULT_TYPE_SYNONYMS,
    RESULT_TYPES,
    SCHEDULED_DAYS_AHEAD,
    SESSIONS,
    SUBJECTS_READ,
    Column,
    ExportFile,
)
from pipeline.sql import sql_macro, sql_string

YEAR_GROUPS = ("N1", "N2", "R", *(str(n) for n in range(1, 15)))
EXCEL_NUMBER = r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$"
SEN_UNKNOWN = ("NOT KNOWN", "NOT RECORDED", "NOT SET", "NK")
REASON_SHOWN = (
    r"regexp_replace(case when column_name = 'upn' then regexp_replace(reason, '\([^)]*\)', '(…)', 'g') "
    "else reason end, '''.*''', '''…''')"
)
"""A quarantine row's reason as the run report and `mentor check` show it: with the value it quotes (from its first
quote to its last) as '…', and a mangled UPN's value in brackets as (…). A value may be anything a column holds (a
surname, in a file whose headers were swapped); quarantine.csv, owner-only, keeps it to correct the line by."""
"""SEN provision texts that say it is not known (they start with N, but are not "no SEN"): blanked, and reported."""
PUPIL_SET_ASIDE = "pupil not loaded from pupils.csv, whose line for them was quarantined: "
PUPIL_SET_ASIDE_FIX = "; correct pupils.csv, and this line loads"
"""The reason of a line of another file whose pupil's lines in tonight's pupils.csv were all quarantined (not "pupil not
in pupils.csv", which sent the data lead to the wrong file), around the reason of the pupil's line. (No quote or
bracket of its own: REASON_SHOWN hides what is between them.)"""
PUPIL_AGES = (3, 25)
"""A date of birth making a pupil younger or older than this (in whole years, on the night's date) is implausible
for any year group from nursery (N1) to Year 14: the date is blanked, with the reason (the features treat an
unknown date of birth as unknown)."""
SUSPENSION_SESSIONS = 90
"""The most sessions one suspension can last: a pupil may be suspended for at most 45 school days in a school year
(DfE, Suspension and permanent exclusion guidance)."""
READING_AGE_MONTHS = (24, 240)
"""A reading age (whole months, e.g. ``131``, or years:months, e.g. ``10:11``) outside 2:00 to 20:00 is not a
plausible result of a reading test: the row is quarantined."""
whole_number = sql_macro("grades.sql", "whole_number")
"""SQL reading a text expression as a whole number, or NULL (``131``, ``-3`` and ``12.0`` are; ``12.5``, ``1_0``,
``1e3`` and ``0x10`` are not): the rule every query uses, in pipeline/sql/grades.sql."""
reading_age_months = sql_macro("grades.sql", "reading_age_months")
"""SQL reading a reading age in months (years:months or whole months), or NULL: the feature's own rule."""


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(sql_string(v) for v in values) + ")"


@dataclass(frozen=True)
class Problem:
    column: str
    condition: str
    reason: str
    """A SQL expression giving the reason text."""
    quarantine: bool = True


def raw(column: str) -> str:
    return f"nullif(trim({column}), '')"


def parsed(column: Column) -> str:
    """SQL for the typed value of ``column`` (NULL when blank or unparseable)."""
    v = raw(column.name)
    match column.kind:
        case "upn":
            return f"upper({v})"
        case "date":
            # The date before any time: after a space, or ISO 8601's T (2025-11-03T00:00:00, as an API writes it).
            first = f"split_part(split_part({v}, ' ', 1), 'T', 1)"
            # One format is tried per value (a failed strptime is slow): only DD/MM/YYYY has a slash. Its %Y reads a
            # year of any length, so a year of other than four digits (01/09/25, as Excel may show it) is none.
            return (
                f"(case when contains({first}, '/') then "
                f"case when length(split_part({first}, '/', 3)) = 4 then try_strptime({first}, '%d/%m/%Y') end "
                f"when length(split_part({first}, '-', 1)) = 4 then try_strptime({first}, '%Y-%m-%d') end)::date"
            )
        case "bool":
            return (
                f"case when upper({v}) in ('Y', 'YES', 'TRUE', 'T', '1') then true "
                f"when upper({v}) in ('N', 'NO', 'FALSE', 'F', '0') then false end"
            )
        case "int":
            return whole_number(v)
        case "sex":
            return f"case when upper({v}) in ('M', 'MALE') then 'M' when upper({v}) in ('F', 'FEMALE') then 'F' end"
        case "year_group":
            text = f"regexp_replace(upper({v}), '^(YEAR|YR|Y|NC)\\s*', '')"
            normal = f"case when upper({v}) in ('RECEPTION', 'YR', 'R') then 'R' else ltrim({text}, '0') end"
            return f"case when ({normal}) in {_in(YEAR_GROUPS)} then ({normal}) end"
        case "sen":
            # The code, or a description starting with it (K - SEN Support, EHC plan, None); SEN Support without
            # its K; a description of not knowing is not N.
            return (
                f"case when upper({v}) like 'SEN SUPPORT%' then 'K' when upper({v}) in {_in(SEN_UNKNOWN)} then null "
                f"when upper(left({v}, 1)) in ('N', 'K', 'E') then upper(left({v}, 1)) end"
            )
        case "session":
            return _lookup(_words(v), SESSIONS)
        case "mark":
            known = _in(list(ATTENDANCE_CODES))
            return (
                f"case when {v} is null or {v} = '-' then '' "
                f"when {v} in {known} then {v} when upper({v}) in {known} then upper({v}) "
                f"else {_lookup(f'upper({v})', WITHDRAWN_CODES)} end"
            )
        case "decision":
            return _lookup(_words(v), {**{d: d for d in DECISIONS}, **DECISION_SYNONYMS})
        case "result_type":
            return _lookup(_words(v, "_"), {**{t: t for t in RESULT_TYPES}, **RESULT_TYPE_SYNONYMS})
        case "subject":
            return _lookup(_words(v), SUBJECTS_READ, otherwise=v)
        case "exclusion":
            return _lookup(_words(v), EXCLUSION_TYPES)
        case _:
            return v


MONTH_FIRST_HINT = ": it can only be month first (MM/DD/YYYY), as Excel set to US English saves dates"
"""Said after the reason of a date that is no DD/MM/YYYY date but would be a MM/DD/YYYY one (10/14/2025)."""


def _month_first(v: str) -> str:
    """SQL: whether the text ``v`` is a slash date that can only be month first (as :func:`slash_date_order`)."""
    pattern = r"'^\s*(\d{1,2})/(\d{1,2})/\d{4}(\s|$)'"
    first, second = (f"try_cast(regexp_extract({v}, {pattern}, {n}) as integer)" for n in (1, 2))
    return f"coalesce({first} between 1 and 12 and {second} between 13 and 31, false)"


def _words(v: str, joiner: str = " ") -> str:
    """SQL for text ``v`` read as words: lower case, each run of spaces, underscores and hyphens one ``joiner``, none
    at either end ("Not_Now " is ``not now``; "Working At" with ``_`` is ``working_at``)."""
    return f"trim(regexp_replace(lower({v}), '[\\s_\\-]+', '{joiner}', 'g'), '{joiner}')"


def _lookup(words: str, table: dict[str, str], otherwise: str = "null") -> str:
    """SQL giving ``table``'s value for the text ``words``, or ``otherwise`` (SQL) for text not in it."""
    return (
        f"case {words} "
        + " ".join(f"when {sql_string(k)} then {sql_string(v)}" for k, v in table.items())
        + f" else {otherwise} end"
    )


def problems(
    export: ExportFile,
    present: set[str],
    typed: Callable[[str], str] | None = None,
    text: Callable[[str], str] = raw,
) -> list[Problem]:
    """Every check for a file, in the order they are reported (the first failing one names the row's reason).

    ``typed`` names where a column's parsed value can be read (so that it is parsed once per row); by default the
    conditions parse the text themselves. ``text`` likewise names where a column's trimmed text (NULL when blank,
    :func:`raw`) can be read.
    """
    found: list[Problem] = []
    descriptive = export.table == "pupils"
    for column in export.columns:
        if column.name not in present:
            continue
        v, p = text(column.name), (typed(column.name) if typed else parsed(column))
        value = f"coalesce({v}, '')"
        if column.kind == "upn":
            found.append(
                Problem(
                    column.name,
                    f"regexp_full_match({v}, '{EXCEL_NUMBER}')",
                    f"'UPN looks like Excel scientific notation (' || {v} || '): re-export with the column as text'",
                )
            )
            found.append(Problem(column.name, f"{v} is null", "'UPN is blank'"))
            if export.table == "pupils":
                found.append(Problem(column.name, f"upn_problem({p}) is not null", f"upn_problem({p})"))
            else:
                # A pupil whose every pupils.csv line was quarantined (two lines with different values, a blank
                # surname) is no more on roll than one it leaves out, but the line to correct is in pupils.csv.
                found.append(
                    Problem(
                        column.name,
                        "not on_roll and pupil_set_aside is not null",
                        f"{sql_string(PUPIL_SET_ASIDE)} || pupil_set_aside || {sql_string(PUPIL_SET_ASIDE_FIX)}",
                    )
                )
                # a UPN that is no UPN (a hidden character, a wrong check letter) is named as such, not as a pupil
                # missing from pupils.csv, where the data lead would look for them
                found.append(Problem(column.name, f"not on_roll and upn_problem({p}) is not null", f"upn_problem({p})"))
                found.append(Problem(column.name, "not on_roll", "'pupil not in pupils.csv'"))
            continue
        soft = column.blank_if_wrong or (descriptive and column.kind in ("sex", "year_group", "sen", "bool", "date"))
        if not column.nullable and column.kind != "mark":
            found.append(Problem(column.name, f"{v} is null", f"'{column.name} is blank'", quarantine=not soft))
        reason = {
            "date": f"'date ''' || {value} || ''' is not a valid DD/MM/YYYY or YYYY-MM-DD date' || "
            f"case when {_month_first(v)} then {sql_string(MONTH_FIRST_HINT)} else '' end",
            "bool": f"'''' || {value} || ''' is not a yes/no value'",
            "int": f"'''' || {value} || ''' is not a whole number'",
            "sex": f"'sex ''' || {value} || ''' is not M or F'",
            "year_group": f"'year group ''' || {value} || ''' is not N1, N2, R or 1-14'",
            "sen": f"'SEN provision ''' || {value} || ''' is not N, K or E'",
            "session": f"'session ''' || {value} || ''' is not AM or PM'",
            "mark": f"'unknown attendance code ''' || {value} || ''''",
            "exclusion": f"'exclusion type ''' || {value} || ''' is not SUSP, PERM or LNCH'",
            "decision": f"'decision ''' || {value} || ''' is not one of {', '.join(DECISIONS)}'",
            "result_type": f"'result type ''' || {value} || ''' is not one of {', '.join(RESULT_TYPES)}'",
        }.get(column.kind)
        if reason is not None:
            found.append(Problem(column.name, f"{v} is not null and ({p}) is null", reason, quarantine=not soft))
        if column.name in export.date_columns_not_future:
            found.append(
                Problem(
                    column.name,
                    f"({p}) > $today",
                    f"'date ' || strftime(({p}), '%Y-%m-%d') || ' is in the future (after ' || "
                    f"strftime($today::date, '%Y-%m-%d') || ')'",
                    quarantine=not soft,
                )
            )
        if column.name in export.date_columns_scheduled:
            found.append(
                Problem(
                    column.name,
                    f"({p}) > $today::date + {SCHEDULED_DAYS_AHEAD}",
                    f"'date ' || strftime(({p}), '%Y-%m-%d') || ' is more than {SCHEDULED_DAYS_AHEAD} days ahead "
                    f"(after ' || strftime($today::date + {SCHEDULED_DAYS_AHEAD}, '%Y-%m-%d') || '): too far ahead "
                    "for a start already planned'",
                    quarantine=not soft,
                )
            )
    if export.table == "pupils" and "date_of_birth" in present:
        dob = typed("date_of_birth") if typed else parsed(export.column("date_of_birth"))
        age = f"extract(year from age($today::date, ({dob})))"
        found.append(
            Problem(
                "date_of_birth",
                f"({dob}) <= $today and {age} not between {PUPIL_AGES[0]} and {PUPIL_AGES[1]}",
                f"'date of birth ' || strftime(({dob}), '%Y-%m-%d') || ' makes the pupil ' || {age} || "
                f"' years old on ' || strftime($today::date, '%Y-%m-%d') || ', not {PUPIL_AGES[0]} to "
                f"{PUPIL_AGES[1]}: implausible'",
                quarantine=False,
            )
        )
    for order in export.dates_in_order:
        if {order.earlier, order.later} <= present:
            earlier = typed(order.earlier) if typed else parsed(export.column(order.earlier))
            later = typed(order.later) if typed else parsed(export.column(order.later))
            found.append(
                Problem(
                    order.later,
                    f"({later}) < ({earlier})",
                    f"{sql_string(order.later_words + ' ')} || strftime(({later}), '%Y-%m-%d') || "
                    f"{sql_string(' is before ' + order.earlier_words + ' ')} || strftime(({earlier}), '%Y-%m-%d') "
                    f"|| {sql_string(': ' + (order.blank_later or 'which one is wrong cannot be told'))}",
                    quarantine=order.blank_later is None,
                )
            )
    if export.table == "assessments" and {"result_type", "result"} <= present:
        result = text("result")
        months = reading_age_months(result)
        low, high = READING_AGE_MONTHS
        kind = typed("result_type") if typed else parsed(export.column("result_type"))
        found.append(
            Problem(
                "result",
                f"({kind}) is not distinct from 'reading_age' "
                f"and not coalesce(({months}) between {low} and {high}, false)",
                f"'reading age ''' || coalesce({result}, '') || ''' is not plausible (whole months "
                f"{low}-{high}, or years:months {low // 12}:00-{high // 12}:00)'",
            )
        )
    if export.table == "attendance" and "minutes_late" in present:
        late = typed("minutes_late") if typed else parsed(export.column("minutes_late"))
        found.append(Problem("minutes_late", f"({late}) < 0", "'minutes late cannot be negative'", quarantine=False))
    if export.table == "exclusions" and "sessions" in present:
        sessions = typed("sessions") if typed else parsed(export.column("sessions"))
        found.append(Problem("sessions", f"({sessions}) < 1", "'length must be at least 1 session'"))
        if "category" in present:
            category = typed("category") if typed else parsed(export.column("category"))
            found.append(
                Problem(
                    "sessions",
                    f"({category}) is not distinct from 'SUSP' and ({sessions}) > {SUSPENSION_SESSIONS}",
                    f"'a suspension of ' || ({sessions}) || ' sessions is more than the {SUSPENSION_SESSIONS} "
                    f"({SUSPENSION_SESSIONS // 2} school days) a pupil can be suspended for in a school year'",
                )
            )
    return found


SLASH_DATE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/\d{4}(\s|$)")


def slash_date_order(text: str) -> str | None:
    """Which way round a slash date must be: "month first" (07/16/2025), "day first" (16/07/2025), or None when
    either could be (07/03/2025) or it is no slash date.

    >>> slash_date_order("07/16/2025"), slash_date_order(" 16/07/2025 10:00"), slash_date_order("07/03/2025")
    ('month first', 'day first', None)
    """
    match = SLASH_DATE.match(text)
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if first <= 12 < second <= 31:
        return "month first"
    if second <= 12 < first <= 31:
        return "day first"
    return None


def either_way_round(text: str) -> bool:
    """Whether a slash date reads as two different days, day first and month first (07/03/2025: 7 March or 3 July).

    >>> either_way_round("07/03/2025"), either_way_round("05/05/2025"), either_way_round("16/07/2025")
    (True, False, False)
    """
    match = SLASH_DATE.match(text)
    if not match:
        return False
    first, second = int(match.group(1)), int(match.group(2))
    return 1 <= first <= 12 and 1 <= second <= 12 and first != second
