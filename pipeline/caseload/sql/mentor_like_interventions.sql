-- Open interventions on a night whose name speaks of mentoring but is not one of the names that make a pupil a
-- current mentee ($names, lower case): per school and name (any case and spacing alike; shown as the MIS first
-- writes it, in sort order), how many pupils have one.
select school_id, min(trim(intervention)) as intervention, count(distinct upn) as pupils
from interventions
where contains(lower(intervention), 'mentor')
    and not list_contains($names, lower(trim(intervention)))
    and start_date <= $as_of::date
    and (end_date is null or end_date >= $as_of::date)
group by school_id, lower(trim(intervention))
order by school_id, pupils desc, intervention
