-- A plain file's lines (see PreparedFile.plain), read by DuckDB's line reader: the header skipped, each line one
-- column (split at chr(1), which the file does not hold, with no quoting), in file order. Blank lines are skipped
-- by the reader, and a line it cannot read is stored in reject_errors: the caller then reads the file as text
-- instead (sql/read_lines.sql). Parameters: $path.
create or replace temp table plain_lines as
select line, hash(line) as line_hash, hash(line || chr(31)) as line_hash2
from read_csv($path, header = true, auto_detect = false, delim = chr(1), quote = '', escape = '',
    columns = {'line': 'VARCHAR'}, store_rejects = true, strict_mode = true)
