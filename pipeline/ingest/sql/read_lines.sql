-- Every physical line of one file as text, numbered as in the file (the header is line 1), without its line end.
-- The file is read once as text (never by a CSV parser) and split at its line ends; blank lines are kept (and
-- counted, not loaded). A line past the count of lines made from the file's bytes ($physical_lines) is kept too,
-- so that a file that changed while it was read is caught.
-- Parameters: $path (a UTF-8 file), $line_end (chr(10), a CR before it dropped, or chr(13)), $physical_lines.
create or replace temp table text_lines as
select line_number, line, hash(line) as line_hash, hash(line || chr(31)) as line_hash2
from (
    select n as line_number, case when $line_end = chr(10) then rtrim(part, chr(13)) else part end as line
    from (
        select unnest(parts) as part, generate_subscripts(parts, 1) as n
        from (select string_split(content, $line_end) as parts from read_text($path))
    )
    where n >= 2 and (n <= $physical_lines or part <> '')
)
