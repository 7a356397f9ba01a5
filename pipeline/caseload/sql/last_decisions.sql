-- The last staff decision on each pupil dated on or before $decided_by (decisions.csv is kept with history: one
-- row per pupil per day), how many decisions are recorded, whether any intervention has started since the decision
-- (on or before the night, $as_of), and the score the pupil had on the first night the decision was read.
with history as (
    select school_id, upn, date, decision, review_date,
        count(*) over (partition by school_id, upn) as decisions_recorded
    from decisions
    where date <= $decided_by::date
),
latest as (
    select * from history
    qualify row_number() over (partition by school_id, upn order by date desc) = 1
),
started as (
    select l.school_id, l.upn, count(i.upn) > 0 as intervention_since
    from latest as l
    left join interventions as i
        on i.school_id = l.school_id and i.upn = l.upn and i.start_date >= l.date and i.start_date <= $as_of::date
    group by l.school_id, l.upn
)
select
    l.school_id,
    l.upn,
    l.date as decision_date,
    l.decision,
    l.review_date,
    l.decisions_recorded,
    s.intervention_since,
    b.score as score_at_decision
from latest as l
join started as s using (school_id, upn)
left join decision_scores as b on b.school_id = l.school_id and b.upn = l.upn and b.decision_date = l.date
order by l.school_id, l.upn
