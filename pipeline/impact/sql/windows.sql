-- The record around each learning-mentor start, for the mentees and for every other pupil on roll then.
-- A cohort is one school's starts on one date. Its school days are counted from the start (the first school day on
-- or after the start date): "post" runs from the start to the end of that half-term (a half-term ends where the
-- next school day is $break_days or more calendar days later), and the $bins bins of $bin_days school days before
-- the start are "b1" (the latest) to "b<$bins>". A school day is a day with any possible session at the school.
-- A cohort is kept when the school has all $bins bins before it and its half-term has ended in the data.
-- One row per cohort, pupil and period: possible and attended sessions (DfE: present or approved activity), and
-- negative behaviour points (as a positive number); post_end is the last school day of "post". A pupil appears for a
-- cohort if they have a possible session in any of its periods. Learning mentoring is an intervention whose name,
-- trimmed and in lower case, is in $names.
{% from "attendance.sql" import attended, possible -%}
with possible_days as (
    select distinct school_id, date
    from attendance
    where {{ possible("category") }} and upn is not null
),
gaps as (
    select
        school_id,
        date,
        row_number() over (partition by school_id order by date) as day_no,
        case when date - lag(date) over (partition by school_id order by date) >= $break_days then 1 else 0 end
            as new_block
    from possible_days
),
school_days as (
    select school_id, date, day_no, sum(new_block) over (partition by school_id order by date) as block
    from gaps
),
blocks as (
    select school_id, block, max(day_no) as last_no
    from school_days
    group by all
),
last_days as (
    select school_id, max(day_no) as last_no from school_days group by all
),
cohorts as (
    select s.school_id, s.start_date, min(d.day_no) as start_no
    from (
        select distinct school_id, start_date from interventions
        where list_contains($names, lower(trim(intervention))) and start_date is not null
    ) as s
    join school_days as d on d.school_id = s.school_id and d.date >= s.start_date
    group by all
),
kept as (
    select
        c.school_id,
        c.start_date,
        c.start_no,
        b.last_no as post_end_no,
        b.last_no - c.start_no + 1 as post_days,
        e.date as post_end
    from cohorts as c
    join school_days as d on d.school_id = c.school_id and d.day_no = c.start_no
    join blocks as b on b.school_id = c.school_id and b.block = d.block
    join school_days as e on e.school_id = c.school_id and e.day_no = b.last_no
    join last_days as l on l.school_id = c.school_id
    where c.start_no - $bins * $bin_days >= 1 and b.last_no < l.last_no
),
cohort_days as (
    select
        k.school_id,
        k.start_date,
        k.post_days,
        k.post_end,
        d.date,
        case
            when d.day_no >= k.start_no then 'post'
            else 'b' || cast((k.start_no - d.day_no - 1) // $bin_days + 1 as varchar)
        end as period
    from kept as k
    join school_days as d
        on d.school_id = k.school_id and d.day_no between k.start_no - $bins * $bin_days and k.post_end_no
),
marks as (
    select
        c.school_id,
        c.start_date,
        c.post_days,
        c.post_end,
        a.upn,
        c.period,
        count(*) filter (where {{ possible("a.category") }})
            as possible,
        count(*) filter (where {{ attended("a.category") }}) as attended
    from cohort_days as c
    join attendance as a on a.school_id = c.school_id and a.date = c.date
    where a.upn is not null
    group by all
),
points as (
    select c.school_id, c.start_date, b.upn, c.period, sum(-b.points) as negative_points
    from cohort_days as c
    join behaviour as b on b.school_id = c.school_id and b.date = c.date
    where b.points < 0 and b.upn is not null
    group by all
)
select
    m.school_id,
    m.start_date,
    m.post_days,
    m.post_end,
    m.upn,
    m.period,
    m.possible,
    m.attended,
    coalesce(p.negative_points, 0) as negative_points
from marks as m
left join points as p using (school_id, start_date, upn, period)
order by m.school_id, m.start_date, m.upn, m.period
