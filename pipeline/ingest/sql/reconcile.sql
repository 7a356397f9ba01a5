-- What the warehouse holds of one file's load, counted from the tables themselves: lines quarantined (in the
-- quarantine table) and lines loaded tonight (in `clean`, before identical repeats were dropped: see `good`).
-- Parameters: $school, $file, $load_id.
select count(distinct line_number)
from quarantine
where school_id = $school and file = $file and load_id = $load_id and outcome = 'row quarantined'
