-- The last staff decision on each pupil dated on or before $decided_by (decisions.csv is kept with history: one
-- row per pupil per day), how many decisions are recorded, whether mentoring (an intervention named in $names) has
-- started since the decision and which other intervention has (on or before the night, $as_of), the score the
-- pupil had on the list staff decided on, and the first night since on which it had risen by $margin or more.
--
-- Scores count only under cards that score as tonight's does ($scorecard, its points fingerprint: the same bands and
-- points, whatever the words or chances). The list staff decided on is the latest night scored
-- before the decision's date (a list is read the day after its night); failing that, the first night after it, or
-- for a decision read before each night's scores were kept, the score recorded on the first night it was read. A
-- night since is one after that night, up to the night being made.
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
    select
        l.school_id,
        l.upn,
        count(i.upn) filter (where list_contains($names, lower(trim(i.intervention)))) > 0 as mentoring_since,
        min(i.start_date) filter (where list_contains($names, lower(trim(i.intervention)))) as mentoring_started,
        -- the last end of mentoring since the decision, when every mentoring intervention since has ended
        case when bool_and(i.end_date is not null and i.end_date <= $as_of::date)
                filter (where list_contains($names, lower(trim(i.intervention))))
            then max(i.end_date) filter (where list_contains($names, lower(trim(i.intervention)))) end
            as mentoring_ended,
        arg_min(i.intervention, (i.start_date, i.intervention))
            filter (where not list_contains($names, lower(trim(i.intervention)))) as other_since,
        min(i.start_date) filter (where not list_contains($names, lower(trim(i.intervention)))) as other_since_date
    from latest as l
    left join interventions as i
        on i.school_id = l.school_id and i.upn = l.upn and i.start_date >= l.date and i.start_date <= $as_of::date
    group by l.school_id, l.upn
),
scored as (
    select school_id, upn, as_of, score from night_scores where scorecard = $scorecard
),
decided_on as (  -- the list staff decided on, or failing that the first night after the decision
    select
        l.school_id,
        l.upn,
        coalesce(arg_max(n.score, n.as_of) filter (where n.as_of < l.date),
                 arg_min(n.score, n.as_of) filter (where n.as_of >= l.date)) as score,
        coalesce(max(n.as_of) filter (where n.as_of < l.date),
                 min(n.as_of) filter (where n.as_of >= l.date)) as night
    from latest as l
    join scored as n using (school_id, upn)
    group by l.school_id, l.upn
),
at_decision as (  -- a decision read before nights were kept: the score recorded on the first night it was read
    select
        l.school_id,
        l.upn,
        case when b.score is not null and (o.night is null or o.night >= l.date) then b.score else o.score end
            as score,
        case when b.score is not null and (o.night is null or o.night >= l.date) then b.recorded_on else o.night end
            as night
    from latest as l
    left join decided_on as o using (school_id, upn)
    left join decision_scores as b on b.school_id = l.school_id and b.upn = l.upn and b.decision_date = l.date
),
risen as (
    select
        a.school_id,
        a.upn,
        min(n.as_of) as back_since,
        arg_min(n.score, n.as_of) as score_then
    from at_decision as a
    join scored as n
        on n.school_id = a.school_id and n.upn = a.upn and n.as_of > a.night and n.as_of <= $as_of::date
    where n.score >= a.score + $margin
    group by a.school_id, a.upn
)
select
    l.school_id,
    l.upn,
    l.date as decision_date,
    l.decision,
    l.review_date,
    l.decisions_recorded,
    s.mentoring_since as intervention_since,
    s.mentoring_started,
    s.mentoring_ended,
    s.other_since,
    s.other_since_date,
    a.score as score_at_decision,
    r.back_since,
    r.score_then
from latest as l
join started as s using (school_id, upn)
left join at_decision as a using (school_id, upn)
left join risen as r using (school_id, upn)
order by l.school_id, l.upn
