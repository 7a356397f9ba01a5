-- Remember tonight's score of each pupil whose latest decision has no score recorded yet: a declined pupil comes
-- back to the list when their score rises by the settable margin above it.
insert into decision_scores
select f.school_id, f.upn, f.decision_date, f.score, cast($as_of as date)
from decision_scores_frame as f
where not exists (
    select 1 from decision_scores as d
    where d.school_id = f.school_id and d.upn = f.upn and d.decision_date = f.decision_date
)
