-- Record tonight's problems of one file in the quarantine: whole lines that could not be read (bad_lines), rows
-- whose values break a rule (checked, with the first problem found), and values blanked on rows that loaded.
-- Parameters: $school, $file, $load_id.
insert into quarantine
select $school, $file, line_number, '(whole line)', value, reason, $load_id, 'row quarantined'
from bad_lines
union all
select $school, $file, line_number, problem_column, visible_text(problem_value), problem_reason, $load_id,
    'row quarantined'
from checked where problem_reason is not null
union all
select $school, $file, line_number, split_part(w, ':', 1), null, trim(substr(w, strpos(w, ':') + 1)),
    $load_id, 'value blanked'
from (select line_number, unnest(warnings) as w from checked where problem_reason is null)
