-- The shortlist's order and its cut at each school's places: the one definition both engines run (DuckDB as it
-- stands, Spark as pipeline.spark.transpile translates it). The rule is pipeline/caseload/policy.py's docstring.
--
-- candidates: one row per candidate (school_id, upn, score, attendance_rate_term, negative_points_4wk,
--   main_barrier, main_need: the points in the main barrier, cut: how far down each order to keep).
-- $need_points: the points in its main barrier that make a pupil's need real (at least 1).
--
-- Order: score, highest first; then lower attendance this term; then more negative behaviour points in the last
-- 4 weeks; then UPN. A missing value (NULL or NaN) sorts last.
-- Kept: the candidates within the cut of their school's order (school_rank), and those with real need within the
-- cut of their main barrier's order (barrier_rank), so the places a barrier is given can always be filled from the
-- rows kept. in_need is how many of the school's candidates have real need in that main barrier: what
-- pipeline.caseload.policy.share_places shares the places by.
with clean as (
    select
        school_id,
        upn,
        score,
        case when isnan(attendance_rate_term) then null else attendance_rate_term end as attendance_rate_term,
        case when isnan(negative_points_4wk) then null else negative_points_4wk end as negative_points_4wk,
        main_barrier,
        main_barrier <> 'none' and main_need >= $need_points as real_need,
        cut
    from candidates
),

ranked as (
    select
        *,
        row_number() over (
            partition by school_id
            order by score desc, attendance_rate_term asc nulls last, negative_points_4wk desc nulls last, upn asc
        ) as school_rank
    from clean
),

by_barrier as (
    select
        *,
        row_number() over (partition by school_id, main_barrier, real_need order by school_rank) as barrier_rank,
        count(case when real_need then 1 end) over (partition by school_id, main_barrier) as in_need
    from ranked
)

select school_id, upn, school_rank, main_barrier, real_need, barrier_rank, in_need
from by_barrier
where school_rank <= cut or (real_need and barrier_rank <= cut)
order by school_id, school_rank
