-- School days of each school up to the as-of date, numbered back from it, with the start of the term and year.
-- A school day is a date on which the school recorded at least one possible session. A term starts after a
-- break of more than 14 calendar days (Christmas, Easter, summer); half-terms are shorter and do not count.
-- Days are looked for in the last $lookback_days calendar days (pipeline.warehouse.SCHOOL_DAYS_LOOKBACK): enough
-- for the longest term and the 40 school days the behaviour trend needs; the older marks are not scanned.
{% from "attendance.sql" import possible -%}
with days as (
    select distinct school_id, date
    from attendance
    where date <= $as_of::date and date > $as_of::date - $lookback_days
        and {{ possible("category") }}
),
gaps as (
    select
        school_id,
        date,
        date - lag(date) over (partition by school_id order by date) as gap_days
    from days
),
numbered as (
    select
        school_id,
        date,
        row_number() over (partition by school_id order by date desc) as days_back,
        max(case when gap_days is null or gap_days > 14 then date end)
            over (partition by school_id order by date rows between unbounded preceding and current row)
            as term_start
    from gaps
)
select
    school_id,
    date,
    days_back,
    term_start,
    make_date(
        case when month($as_of::date) >= 9 then year($as_of::date) else year($as_of::date) - 1 end, 9, 1
    ) as year_start
from numbered
