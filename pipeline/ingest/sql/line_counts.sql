-- What incoming_lines holds: data lines (not blank: blank_line, in visible.sql), blank lines, lines beyond the count
-- made from the file's bytes, and the number of the last data line.
select count(*) filter (where not blank_line(line) and line_number <= $physical_lines),
    count(*) filter (where blank_line(line) and line_number <= $physical_lines),
    count(*) filter (where line_number > $physical_lines),
    coalesce(max(line_number) filter (where not blank_line(line)), 0)
from incoming_lines
