-- The file's lines with a withdrawn attendance code (each mapped to its successor when checked): the lines to
-- check, from their text, and the unchanged lines, from the clean raw line each paired with (which has the same
-- text), so that the whole year to date is not split to find its marks.
-- Parameters: $withdrawn, $school, $rules, $today, $recheck_all.
{% from "raw_layer.sql" import reusable -%}
select (select count(*) from numbered where upper(trim(mark)) in $withdrawn)
    + (select count(*) from raw_attendance
       where school_id = $school and not $recheck_all and {{ reusable() }}
           and upper(trim(mark)) in $withdrawn
           and rowid not in (select raw_rowid from unmatched where raw_rowid is not null)
           and (line_hash, line_hash2) not in (select line_hash, line_hash2 from numbered))
