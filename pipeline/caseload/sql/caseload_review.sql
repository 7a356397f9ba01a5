-- Current mentees as of a date (an open intervention whose lower-cased name is in $names) and how they are doing:
-- attendance, negative behaviour points per school week (10 possible sessions) and the English and maths gap to
-- target, in the $before_days school days (days the pupil could attend) before mentoring started against the time
-- since it started. School days, not calendar days, so that a start in September looks back past the summer.
{% from "grades.sql" import grade -%}
{% from "attendance.sql" import attended, possible -%}
with mentoring as (
    select school_id, upn, min(start_date) as start_date
    from interventions
    where list_contains($names, lower(trim(intervention)))
        and start_date <= $as_of::date
        and (end_date is null or end_date >= $as_of::date)
    group by school_id, upn
),
days_before as (
    select school_id, upn, date
    from (select distinct m.school_id, m.upn, a.date
          from mentoring as m
          join attendance as a using (school_id, upn)
          where a.date < m.start_date and {{ possible("a.category") }})  -- a day the school was closed is none
    qualify dense_rank() over (partition by school_id, upn order by date desc) <= $before_days
),
windows as (
    select m.school_id, m.upn, m.start_date, coalesce(min(d.date), m.start_date) as before_from
    from mentoring as m
    left join days_before as d using (school_id, upn)
    group by m.school_id, m.upn, m.start_date
),
marks as (
    select
        w.school_id,
        w.upn,
        a.date >= w.start_date as since,
        {{ possible("a.category") }} as possible,
        {{ attended("a.category") }} as attended
    from windows as w
    join attendance as a using (school_id, upn)
    where a.date <= $as_of::date and a.date >= w.before_from
),
attendance_change as (
    select
        school_id,
        upn,
        count(*) filter (where possible and not since) as possible_before,
        count(*) filter (where attended and not since) as attended_before,
        count(*) filter (where possible and since) as possible_since,
        count(*) filter (where attended and since) as attended_since
    from marks
    group by school_id, upn
),
behaviour_change as (
    select
        w.school_id,
        w.upn,
        coalesce(sum(-b.points) filter (where b.date < w.start_date), 0) as negative_before,
        coalesce(sum(-b.points) filter (where b.date >= w.start_date), 0) as negative_since
    from windows as w
    join behaviour as b using (school_id, upn)
    where b.points < 0 and b.date <= $as_of::date and b.date >= w.before_from
    group by w.school_id, w.upn
),
grades as (
    select
        m.school_id,
        m.upn,
        m.start_date,
        case when r.subject in ('English', 'Reading') then 'English' else r.subject end as subject,
        r.date,
        r.assessment_point,
        r.result_type,
        {{ grade("r.result") }} as grade
    from mentoring as m
    join assessments as r using (school_id, upn)
    where r.date <= $as_of::date
        and r.result_type in ('working_at', 'target')
        and r.subject in ('English', 'Reading', 'Maths')
),
by_subject as (
    select
        school_id,
        upn,
        subject,
        arg_max(grade, (date, assessment_point)) filter (where result_type = 'working_at' and date < start_date)
            as working_before,
        arg_max(grade, (date, assessment_point)) filter (where result_type = 'working_at' and date >= start_date)
            as working_since,
        arg_max(grade, (date, assessment_point)) filter (where result_type = 'target' and date < start_date)
            as target_before,
        arg_max(grade, (date, assessment_point)) filter (where result_type = 'target') as target_now
    from grades
    group by school_id, upn, subject
),
attainment_change as (
    select
        school_id,
        upn,
        avg(working_before - coalesce(target_before, target_now)) as gap_before,
        avg(working_since - target_now) as gap_since
    from by_subject
    group by school_id, upn
)
select
    m.school_id,
    m.upn,
    m.start_date,
    a.possible_before,
    a.possible_since,
    a.attended_before / nullif(a.possible_before, 0) as attendance_before,
    a.attended_since / nullif(a.possible_since, 0) as attendance_since,
    10.0 * coalesce(b.negative_before, 0) / nullif(a.possible_before, 0) as behaviour_before,
    10.0 * coalesce(b.negative_since, 0) / nullif(a.possible_since, 0) as behaviour_since,
    t.gap_before,
    t.gap_since
from mentoring as m
left join attendance_change as a using (school_id, upn)
left join behaviour_change as b using (school_id, upn)
left join attainment_change as t using (school_id, upn)
order by m.school_id, m.upn
