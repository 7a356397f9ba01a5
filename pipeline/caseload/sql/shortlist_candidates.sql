-- The candidates for each school's shortlist, run by DuckDB on one school (pipeline.caseload.policy.choose) and by
-- Spark on every school at once: not a current mentee, not referred and waiting ('pending'), not held off the list
-- by a staff decision ('held'), and with a score or a need.
--
-- needs: one row per pupil on roll, from pipeline.caseload.policy.need_sql (school_id, upn, score,
--   attendance_rate_term, negative_points_4wk, main_barrier, main_need, total_need, mentee).
-- decision_status: school_id, upn, decision_status of the pupils with a staff decision tonight.
-- school_cut: school_id, cut (the most places the school's shortlist can have tonight).
select
    n.school_id,
    n.upn,
    n.score,
    n.attendance_rate_term,
    n.negative_points_4wk,
    n.main_barrier,
    n.main_need,
    c.cut
from needs as n
inner join school_cut as c on n.school_id = c.school_id
left join decision_status as d on n.school_id = d.school_id and n.upn = d.upn
where
    not n.mentee
    and coalesce(d.decision_status, '') not in ('pending', 'held')
    and (n.score > 0 or n.total_need > 0)
