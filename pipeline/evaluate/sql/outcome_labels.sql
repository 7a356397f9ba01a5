-- Outcome labels for pupils on roll on an as-of date, from what happened in the school days after it.
-- The horizon is the next $horizon_days school days of each school (a half-term is about 30). A label is only
-- known when the warehouse holds the whole horizon (horizon_complete). Components:
--   persistent absence: absence in the horizon at least $persistent_absence of possible sessions (DfE measure);
--   suspension: a suspension starting in the horizon;
--   fell below target: English and maths (mean of the two) against target, at the first data drop inside the
--     horizon, at least $grade_drop grades worse than at the last drop on or before the as-of date, and below 0.
{% from "grades.sql" import grade -%}
{% from "attendance.sql" import absent, possible -%}
with days as (
    select distinct school_id, date
    from attendance
    where date > $as_of::date and {{ possible("category") }}
),
horizon_days as (
    select school_id, date
    from days
    qualify row_number() over (partition by school_id order by date) <= $horizon_days
),
horizon as (
    select school_id, min(date) as horizon_start, max(date) as horizon_end, count(*) as horizon_school_days
    from horizon_days
    group by school_id
),
on_roll as (
    select p.school_id, p.upn
    from pupils as p
    where (p.admission_date is null or p.admission_date <= $as_of::date)
        and (p.leaving_date is null or p.leaving_date >= $as_of::date)
),
absence as (
    select
        a.school_id,
        a.upn,
        count(*) filter (where {{ possible("a.category") }})
            as horizon_possible_sessions,
        count(*) filter (where {{ absent("a.category") }}) as horizon_absent_sessions
    from attendance as a
    join horizon as h on a.school_id = h.school_id and a.date between h.horizon_start and h.horizon_end
    group by a.school_id, a.upn
),
suspended as (
    select e.school_id, e.upn, count(*) as horizon_suspensions
    from exclusions as e
    join horizon as h on e.school_id = h.school_id and e.start_date between h.horizon_start and h.horizon_end
    where e.category = 'SUSP'
    group by e.school_id, e.upn
),
grades as (
    select
        a.school_id,
        a.upn,
        a.subject,
        a.date,
        a.result_type,
        {{ grade("a.result") }} as grade,
        a.date <= $as_of::date as before
    from assessments as a
    join horizon as h using (school_id)
    where a.result_type in ('working_at', 'target')
        and a.subject in ('English', 'Reading', 'Maths')
        and a.date <= h.horizon_end
),
targets as (
    select school_id, upn, case when subject = 'Reading' then 'English' else subject end as subject,
        arg_max(grade, date) as target
    from grades
    where result_type = 'target' and grade is not null
    group by all
),
working as (
    select school_id, upn, case when subject = 'Reading' then 'English' else subject end as subject,
        arg_max(grade, date) filter (where before) as before_grade,
        arg_min(grade, date) filter (where not before) as after_grade
    from grades
    where result_type = 'working_at' and grade is not null
    group by all
),
gaps as (
    select w.school_id, w.upn,
        avg(w.before_grade - t.target) as gap_before,
        avg(w.after_grade - t.target) as gap_after,
        count(w.before_grade) as subjects_before,
        count(w.after_grade) as subjects_after
    from working as w
    join targets as t using (school_id, upn, subject)
    group by w.school_id, w.upn
)
select
    cast($as_of::date as date) as as_of,
    r.school_id,
    r.upn,
    h.horizon_start,
    h.horizon_end,
    coalesce(h.horizon_school_days, 0) = $horizon_days as horizon_complete,
    a.horizon_possible_sessions,
    a.horizon_absent_sessions::double / nullif(a.horizon_possible_sessions, 0) as horizon_absence_rate,
    coalesce(a.horizon_absent_sessions::double / nullif(a.horizon_possible_sessions, 0) >= $persistent_absence,
        false) as outcome_persistent_absence,
    coalesce(s.horizon_suspensions, 0) > 0 as outcome_suspension,
    g.gap_before,
    case when g.subjects_before = g.subjects_after and g.subjects_after > 0 then g.gap_after end as gap_after,
    coalesce(
        g.subjects_before = g.subjects_after and g.subjects_after > 0
        and g.gap_after <= g.gap_before - $grade_drop and g.gap_after < 0,
        false
    ) as outcome_fell_below_target
from on_roll as r
left join horizon as h using (school_id)
left join absence as a using (school_id, upn)
left join suspended as s using (school_id, upn)
left join gaps as g using (school_id, upn)
order by r.school_id, r.upn
