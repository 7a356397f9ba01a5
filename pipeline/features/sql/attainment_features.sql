-- Attainment and potential per pupil as of a date: English and maths working-at against target (in grades; a
-- primary step WTS -> EXS counts as one), subjects below target, KS2 and CAT4 prior attainment, reading age
-- against chronological age, and high prior attainment (KS2 average >= 110 or CAT4 mean SAS >= 115).
-- core_grade_change: how far English (reading at primary) and maths working-at moved between their last two
-- assessments, averaged over the two (negative: slipping), the first sign of a pupil starting to slip.
-- Grades in thirds (5+, 4-) sum with a float's rounding error: -0.5 came out as -0.50000000000000011, which a card's
-- band "from -0.5" put below. Gaps and changes are rounded to 9 places, so a value on a band's edge is on it.
{% from "grades.sql" import grade, number, reading_age_months -%}
with results as (
    select
        school_id,
        upn,
        subject,
        assessment_point,
        date,
        result_type,
        result,
        {{ grade("result") }} as grade
    from assessments
    where date <= $as_of::date
),
latest as (
    -- The latest working-at grade and target of each subject, even when that latest result is not a grade (NULL).
    -- An aggregate, not a window: no sort of every result. Results of one date are told apart by assessment point.
    select
        school_id,
        upn,
        subject,
        arg_max_null(grade, (date, assessment_point)) filter (where result_type = 'working_at') as working_at,
        arg_max_null(grade, (date, assessment_point)) filter (where result_type = 'target') as target
    from results
    where result_type in ('working_at', 'target')
    group by school_id, upn, subject
),
changes as (
    -- How far each subject's working-at grade moved between its last two assessments (negative: slipping).
    select
        school_id,
        upn,
        subject,
        round(max(grade) filter (where recency = 1) - max(grade) filter (where recency = 2), 9) as change
    from (
        select
            school_id,
            upn,
            subject,
            grade,
            row_number() over (partition by school_id, upn, subject order by date desc, assessment_point desc)
                as recency
        from results
        where result_type = 'working_at' and grade is not null and subject in ('English', 'Reading', 'Maths')
    )
    where recency <= 2
    group by school_id, upn, subject
    having count(*) = 2
),
change_by_pupil as (
    select
        school_id,
        upn,
        coalesce(max(change) filter (where subject = 'English'), max(change) filter (where subject = 'Reading'))
            as english_change,
        max(change) filter (where subject = 'Maths') as maths_change
    from changes
    group by school_id, upn
),
gaps as (
    select school_id, upn, subject, round(working_at - target, 9) as gap
    from latest
    where working_at is not null and target is not null
),
by_pupil as (
    select
        school_id,
        upn,
        coalesce(max(gap) filter (where subject = 'English'), max(gap) filter (where subject = 'Reading'))
            as english_grade_gap,
        max(gap) filter (where subject = 'Maths') as maths_grade_gap,
        count(*) filter (where gap < 0) as subjects_below_target
    from gaps
    group by school_id, upn
),
prior as (
    select
        school_id,
        upn,
        avg({{ number("result") }}) filter (where result_type = 'ks2_scaled' and subject in ('Reading', 'Maths'))
            as ks2_mean_scaled_score,
        bool_or({{ number("result") }} < 100)
            filter (where result_type = 'ks2_scaled' and subject in ('Reading', 'Maths')) as ks2_below_expected,
        arg_max({{ number("result") }}, date) filter (where result_type = 'cat4_sas' and subject = 'Mean')
            as cat4_mean_sas
    from results
    where result_type in ('ks2_scaled', 'cat4_sas')
    group by school_id, upn
),
reading as (
    select
        r.school_id,
        r.upn,
        -- the age in whole months completed (datediff counts month boundaries: 26 November to 17 October is 83
        -- boundaries but 82 months)
        {{ reading_age_months("r.result") }} - (
            datediff('month', p.date_of_birth, r.date)
            - case when day(r.date) < day(p.date_of_birth) then 1 else 0 end
        ) as reading_age_gap_months
    from results as r
    join pupils as p using (school_id, upn)
    where r.result_type = 'reading_age'
    qualify row_number() over (partition by r.school_id, r.upn order by r.date desc) = 1
)
select
    coalesce(g.school_id, p.school_id, r.school_id, c.school_id) as school_id,
    coalesce(g.upn, p.upn, r.upn, c.upn) as upn,
    g.english_grade_gap,
    g.maths_grade_gap,
    coalesce(g.subjects_below_target, 0) as subjects_below_target,
    round((g.english_grade_gap + g.maths_grade_gap) / 2, 9) as core_grade_gap,
    round((coalesce(c.english_change, c.maths_change) + coalesce(c.maths_change, c.english_change)) / 2, 9)
        as core_grade_change,
    p.ks2_mean_scaled_score,
    p.ks2_below_expected,
    p.cat4_mean_sas,
    r.reading_age_gap_months,
    coalesce(p.ks2_mean_scaled_score >= 110 or p.cat4_mean_sas >= 115, false) as high_prior_attainment
from by_pupil as g
full outer join prior as p using (school_id, upn)
full outer join reading as r using (school_id, upn)
full outer join change_by_pupil as c using (school_id, upn)
