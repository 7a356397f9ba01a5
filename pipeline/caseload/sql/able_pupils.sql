-- Signs that a pupil is able, from teacher assessment (the primary-school equivalent of high prior attainment),
-- each judged within one subject of reading, writing, English and maths: a GDS target; working at GDS at an earlier
-- assessment point than the subject's latest; and, in a subject worked at GDS earlier, working below the expected
-- standard (WTS or lower) at its latest point (slipped from GDS). The subjects are named (lower case, by subject):
-- a GDS target in maths and a fall to WTS in writing is not a fall from greater depth.
with core as (
    select school_id, upn, subject, date, result_type, upper(result) as result  -- a step in any case (grades.sql)
    from assessments
    where date <= $as_of::date
        and subject in ('English', 'Reading', 'Writing', 'Maths')  -- as ingest names them, in any case delivered
        and result_type in ('working_at', 'target')
),
subjects as (
    select school_id, upn, lower(subject) as subject, date, result_type, result,
        max(date) filter (where result_type = 'working_at') over (partition by school_id, upn, lower(subject))
            as latest_date
    from core
),
by_subject as (
    select
        school_id,
        upn,
        subject,
        bool_or(result_type = 'target' and result = 'GDS') as gds_target,
        coalesce(bool_or(result_type = 'working_at' and result = 'GDS' and date < latest_date), false)
            as gds_earlier,
        coalesce(bool_or(result_type = 'working_at' and result in ('WTS', 'PKS', 'BLW') and date = latest_date), false)
            as below_expected_now,
        min(result) filter (where result_type = 'working_at' and result in ('WTS', 'PKS', 'BLW')
            and date = latest_date) as result_now
    from subjects
    group by school_id, upn, subject
)
select
    school_id,
    upn,
    bool_or(gds_target) as gds_target,
    bool_or(gds_earlier) as gds_earlier,
    bool_or(below_expected_now) as below_expected_now,
    bool_or(gds_earlier and below_expected_now) as slipped_from_gds,
    coalesce(string_agg(subject, ', ' order by subject) filter (where gds_target), '') as gds_target_in,
    coalesce(string_agg(subject, ', ' order by subject) filter (where gds_earlier), '') as gds_earlier_in,
    coalesce(string_agg(subject || ' (' || result_now || ')', ', ' order by subject)
        filter (where gds_earlier and below_expected_now), '') as slipped_in
from by_subject
group by school_id, upn
order by school_id, upn
