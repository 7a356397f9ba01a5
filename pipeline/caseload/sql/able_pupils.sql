-- Signs that a pupil is able, from teacher assessment (the primary-school equivalent of high prior attainment):
-- a GDS target in reading, writing or maths; working at GDS at an earlier assessment point than the latest; and
-- working below the expected standard (WTS or lower) at the latest point.
with core as (
    select school_id, upn, date, result_type, upper(result) as result  -- a step in any case (grades.sql)
    from assessments
    where date <= $as_of::date
        and subject in ('English', 'Reading', 'Writing', 'Maths')
        and result_type in ('working_at', 'target')
),
latest as (
    select school_id, upn, max(date) filter (where result_type = 'working_at') as latest_date
    from core
    group by school_id, upn
)
select
    c.school_id,
    c.upn,
    bool_or(c.result_type = 'target' and c.result = 'GDS') as gds_target,
    coalesce(bool_or(c.result_type = 'working_at' and c.result = 'GDS' and c.date < l.latest_date), false)
        as gds_earlier,
    coalesce(
        bool_or(c.result_type = 'working_at' and c.result in ('WTS', 'PKS', 'BLW') and c.date = l.latest_date), false
    ) as below_expected_now
from core as c
join latest as l using (school_id, upn)
group by c.school_id, c.upn
order by c.school_id, c.upn
