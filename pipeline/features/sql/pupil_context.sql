-- Pupils on roll on the as-of date, with the context shown beside (never in) the score, and the support already
-- in place. Year groups are moved back to the as-of date's academic year when reproducing an earlier year.
with latest_year as (
    select school_id,
        case when month(max(date)) >= 9 then year(max(date)) else year(max(date)) - 1 end as extract_year
    from attendance
    group by school_id
),
on_roll as (
    select p.*,
        (case when month($as_of::date) >= 9 then year($as_of::date) else year($as_of::date) - 1 end)
            - coalesce(y.extract_year, year($as_of::date)) as year_shift
    from pupils as p
    left join latest_year as y using (school_id)
    where (p.admission_date is null or p.admission_date <= $as_of::date)
        and (p.leaving_date is null or p.leaving_date >= $as_of::date)
),
shifted as (
    -- N1, N2 and R count as years -2, -1 and 0; a year group the shift takes outside N1 to 14 is no year group
    select *,
        case year_group when 'N1' then -2 when 'N2' then -1 when 'R' then 0 else try_cast(year_group as integer) end
            + year_shift as shifted_year
    from on_roll
),
support as (
    select school_id, upn, string_agg(distinct intervention, '; ' order by intervention) as current_interventions
    from interventions
    where start_date <= $as_of::date and (end_date is null or end_date >= $as_of::date)
    group by school_id, upn
)
select
    r.school_id,
    r.upn,
    r.forename,
    r.surname,
    case
        when r.year_shift = 0 then r.year_group
        when r.shifted_year = -2 then 'N1'
        when r.shifted_year = -1 then 'N2'
        when r.shifted_year = 0 then 'R'
        when r.shifted_year between 1 and 14 then cast(r.shifted_year as varchar)
    end as year_group,
    r.reg_group,
    r.sen_provision,
    r.fsm_eligible,
    r.pupil_premium,
    r.looked_after,
    r.eal,
    coalesce(s.current_interventions, '') as current_interventions,
    coalesce(contains(s.current_interventions, 'Learning mentor'), false) as has_learning_mentor
from shifted as r
left join support as s using (school_id, upn)
