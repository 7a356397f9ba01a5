-- Behaviour and exclusion features per pupil as of a date: negative points this term, in the last 20 school
-- days and the 20 before them (the trend), incidents, suspensions and sessions suspended this year. Every pupil of a
-- school that keeps such records has a row; a pupil of a school that sends neither file has none (no data).
with windows as (
    select
        school_id,
        max(term_start) filter (where days_back = 1) as term_start,
        max(year_start) as year_start,
        min(date) filter (where days_back <= 20) as four_weeks_start,
        min(date) filter (where days_back <= 40) as eight_weeks_start
    from school_days
    group by school_id
),
incidents as (
    select b.school_id, b.upn, b.date, -b.points as negative_points, w.*
    from behaviour as b
    join windows as w using (school_id)
    where b.points < 0 and b.date <= $as_of::date
),
negative as (
    select
        school_id,
        upn,
        coalesce(sum(negative_points) filter (where date >= term_start), 0) as negative_points_term,
        coalesce(sum(negative_points) filter (where date >= four_weeks_start), 0) as negative_points_4wk,
        coalesce(sum(negative_points) filter (where date >= eight_weeks_start and date < four_weeks_start), 0)
            as negative_points_previous_4wk,
        count(*) filter (where date >= term_start) as incidents_term
    from incidents
    group by school_id, upn
),
suspensions as (
    select
        e.school_id,
        e.upn,
        count(*) filter (where e.category = 'SUSP') as suspensions_year,
        coalesce(sum(e.sessions) filter (where e.category = 'SUSP'), 0) as sessions_suspended_by_exclusions,
        bool_or(e.category = 'PERM') as permanent_exclusion
    from exclusions as e
    join windows as w using (school_id)
    where e.start_date <= $as_of::date and e.start_date >= w.year_start
    group by e.school_id, e.upn
),
recorded as (
    -- Schools that keep behaviour or exclusion records (a row of either on or before the night): their pupils with
    -- no negative incident and no suspension have 0 of each, not "no data". A school that sends neither file keeps
    -- no data (NULL), as it always did.
    select distinct school_id from behaviour where date <= $as_of::date
    union
    select distinct school_id from exclusions where start_date <= $as_of::date
),
pupils_with_records as (  -- (a pupil with an incident or a suspension is at such a school)
    select p.school_id, p.upn from pupils as p join recorded as r using (school_id)
)
select
    k.school_id,
    k.upn,
    coalesce(n.negative_points_term, 0) as negative_points_term,
    coalesce(n.negative_points_4wk, 0) as negative_points_4wk,
    coalesce(n.negative_points_4wk, 0) - coalesce(n.negative_points_previous_4wk, 0) as negative_points_trend,
    coalesce(n.incidents_term, 0) as incidents_term,
    coalesce(s.suspensions_year, 0) as suspensions_year,
    coalesce(s.sessions_suspended_by_exclusions, 0) as sessions_suspended_by_exclusions,
    coalesce(s.permanent_exclusion, false) as permanent_exclusion
from pupils_with_records as k
left join negative as n using (school_id, upn)
left join suspensions as s using (school_id, upn)
