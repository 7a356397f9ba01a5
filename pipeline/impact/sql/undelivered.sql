-- Each school on roll (in the pupils table) and each of the export files $files that the school has never delivered:
-- a file counts as delivered once a delivery of it was loaded (the loads table has a row for every file of every
-- delivery, loaded or failed; a file a school does not send has none). A school that never delivered behaviour.csv
-- has no behaviour record at all, which is not the same as no negative points.
with schools as (
    select distinct school_id from pupils
),
files as (
    select unnest($files) as file
),
loaded as (
    select distinct school_id, file from loads where status = 'loaded'
)
select s.school_id, f.file
from schools as s
cross join files as f
left join loaded as l on l.school_id = s.school_id and l.file = f.file
where l.file is null
order by s.school_id, f.file
