-- For each learning-mentor cohort (one school's starts on one date) and each pupil of the school: whether the
-- pupil started then (treated), whether an earlier mentoring was running or ended less than $washout_days before
-- (such a pupil is neither a mentee nor a comparison pupil for that cohort: a renewal or re-start is not a new start),
-- the pupil's next start of mentoring after the cohort's date (next_start: a pupil whose mentoring starts within the
-- cohort's follow-up is no comparison for it), characteristics from the pupils file,
-- and the English and maths gap to target (working-at minus target, grades; primary steps BLW..GDS count as
-- grades; Reading stands for English): at the last data drop on or before the start (within $gap_before_days) and
-- its change to the first drop after the start (within $gap_after_days), averaged over the subjects with both, and
-- the date of the latest such first drop (gap_after_date: where the gap's follow-up ends). Learning mentoring is an
-- intervention whose name, trimmed and in lower case, is in $names.
{% from "grades.sql" import grade -%}
with mentoring as (
    select school_id, upn, start_date, end_date
    from interventions
    where list_contains($names, lower(trim(intervention))) and start_date is not null and upn is not null
),
cohorts as (
    select distinct school_id, start_date from mentoring
),
flags as (
    select
        c.school_id,
        c.start_date,
        m.upn,
        bool_or(m.start_date = c.start_date) as treated,
        bool_or(
            m.start_date < c.start_date
            and coalesce(m.end_date, c.start_date) >= c.start_date - cast($washout_days as integer)
        ) as other_mentoring,
        min(m.start_date) filter (where m.start_date > c.start_date) as next_start
    from cohorts as c
    join mentoring as m on m.school_id = c.school_id
    group by all
),
grades as (
    select
        school_id,
        upn,
        case when subject = 'Reading' then 'English' else subject end as subject,
        date,
        result_type,
        {{ grade("result") }} as grade
    from assessments
    where result_type in ('working_at', 'target') and subject in ('English', 'Reading', 'Maths') and upn is not null
),
drops as (
    select
        c.school_id,
        c.start_date,
        g.upn,
        g.subject,
        arg_max(g.grade, g.date) filter (
            where g.date <= c.start_date and g.date > c.start_date - cast($gap_before_days as integer)
        ) as working_before,
        max(g.date) filter (
            where g.date <= c.start_date and g.date > c.start_date - cast($gap_before_days as integer)
        ) as before_date,
        arg_min(g.grade, g.date) filter (
            where g.date > c.start_date and g.date <= c.start_date + cast($gap_after_days as integer)
        ) as working_after,
        min(g.date) filter (
            where g.date > c.start_date and g.date <= c.start_date + cast($gap_after_days as integer)
        ) as after_date
    from cohorts as c
    join grades as g on g.school_id = c.school_id
    where g.result_type = 'working_at' and g.grade is not null
    group by all
),
gaps as (
    select
        d.school_id,
        d.start_date,
        d.upn,
        d.subject,
        d.after_date,
        d.working_before - arg_max(t.grade, t.date) filter (where t.date <= d.before_date) as gap_before,
        d.working_after - arg_max(t.grade, t.date) filter (where t.date <= d.after_date) as gap_after
    from drops as d
    join grades as t on t.school_id = d.school_id and t.upn = d.upn and t.subject = d.subject
    where t.result_type = 'target' and t.grade is not null
    group by d.school_id, d.start_date, d.upn, d.subject, d.working_before, d.working_after, d.before_date, d.after_date
),
gap as (
    select
        school_id,
        start_date,
        upn,
        avg(gap_before) as gap_before,
        avg(gap_after - gap_before) filter (where gap_after is not null and gap_before is not null) as gap_change,
        max(after_date) filter (where gap_after is not null and gap_before is not null) as gap_after_date
    from gaps
    group by all
)
select
    c.school_id,
    c.start_date,
    p.upn,
    coalesce(f.treated, false) as treated,
    coalesce(f.other_mentoring, false) as other_mentoring,
    coalesce(p.fsm_eligible, false) or coalesce(p.looked_after, false) as disadvantaged,
    coalesce(p.sen_provision in ('K', 'E'), false) as sen,
    f.next_start,
    g.gap_before,
    g.gap_change,
    g.gap_after_date
from cohorts as c
join pupils as p on p.school_id = c.school_id
left join flags as f on f.school_id = c.school_id and f.start_date = c.start_date and f.upn = p.upn
left join gap as g on g.school_id = c.school_id and g.start_date = c.start_date and g.upn = p.upn
order by c.school_id, c.start_date, p.upn
