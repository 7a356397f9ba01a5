-- Pupils whose learning mentoring (an intervention named in $names, lower case) has ended, with none open on the
-- night ($as_of): the last end within the year before the night. Shown beside a listed pupil (never scored), so
-- staff see that a pupil back on a list was mentored before, and when it stopped.
select school_id, upn, max(end_date) as mentoring_ended
from interventions
where list_contains($names, lower(trim(intervention))) and start_date <= $as_of::date
group by school_id, upn
having bool_and(end_date is not null and end_date < $as_of::date)
    and max(end_date) >= $as_of::date - interval 365 days
order by school_id, upn
