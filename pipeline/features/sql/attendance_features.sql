-- Attendance features per pupil as of a date (DfE measures: possible sessions are present, approved activity,
-- authorised and unauthorised absence). Windows: this academic year, this term, the last 20 school days.
-- attendance_rate_term_ex_holiday counts term-time holiday sessions (G, holiday not agreed) as attended: a week's
-- holiday is absence all the same (DfE), but it says little about the weeks ahead, which a shortlist ranks on.
-- other_absence_rate_year is the year's absence besides this term's unauthorised absence (which has a feature of its
-- own): illness and other absence the school agreed, and unauthorised absence in earlier terms, as a share of the
-- year's possible sessions.
{% from "attendance.sql" import attended, absent, possible -%}
with days as (
    select * from school_days
),
school_term as (
    select school_id, max(term_start) filter (where days_back = 1) as term_start, max(year_start) as year_start,
        min(date) filter (where days_back <= 20) as four_weeks_start,
        min(date) filter (where days_back <= 5) as five_days_start
    from days
    group by school_id
),
marks as (
    select
        a.school_id,
        a.upn,
        a.date,
        a.session,
        a.mark,
        a.category,
        {{ possible("a.category") }} as possible,
        {{ attended("a.category") }} as attended,
        {{ absent("a.category") }} as absent,
        a.date >= t.term_start as in_term,
        a.date >= t.four_weeks_start as in_four_weeks,
        a.date < t.five_days_start as older_than_five_days
    from attendance as a
    join school_term as t using (school_id)
    where a.date <= $as_of::date and a.date >= t.year_start
),
spells as (
    -- Runs of consecutive absent sessions among possible sessions (gaps and islands).
    -- Absent sessions with the same number of attended sessions before them are one run.
    select school_id, upn, absent,
        count(*) filter (where not absent) over (
            partition by school_id, upn order by date, session rows between unbounded preceding and current row
        ) as island
    from marks
    where possible
),
longest as (
    select school_id, upn, max(length) as longest_absence_spell
    from (select school_id, upn, island, count(*) as length from spells where absent group by all)
    group by all
),
totals as (
    select
        school_id,
        upn,
        count(*) filter (where possible) as possible_sessions_year,
        count(*) filter (where attended) as attended_year,
        count(*) filter (where possible and in_term) as possible_sessions_term,
        count(*) filter (where attended and in_term) as attended_term,
        count(*) filter (where category = 'unauthorised' and in_term) as unauthorised_term,
        count(*) filter (where possible and in_four_weeks) as possible_sessions_4wk,
        count(*) filter (where attended and in_four_weeks) as attended_4wk,
        count(*) filter (where mark in ('L', 'U') and in_term) as late_marks_term,
        count(*) filter (where mark in ('L', 'U') and in_four_weeks) as late_marks_4wk,
        count(*) filter (where mark = 'G' and in_term) as holiday_term,
        count(*) filter (where absent) as absent_year,
        count(*) filter (where absent and dayofweek(date) in (1, 5)) as absent_monday_friday_year,
        count(*) filter (where mark = 'N' and older_than_five_days) as unexplained_n_marks,
        count(*) filter (where mark = 'E') as sessions_suspended_year
    from marks
    group by school_id, upn
)
select
    t.school_id,
    t.upn,
    t.possible_sessions_year,
    t.attended_year / nullif(t.possible_sessions_year, 0) as attendance_rate_year,
    t.possible_sessions_term,
    t.attended_term / nullif(t.possible_sessions_term, 0) as attendance_rate_term,
    t.attended_4wk / nullif(t.possible_sessions_4wk, 0) as attendance_rate_4wk,
    (t.attended_term + t.holiday_term) / nullif(t.possible_sessions_term, 0) as attendance_rate_term_ex_holiday,
    case when t.possible_sessions_4wk >= 10 and t.possible_sessions_term >= 20
        then t.attended_4wk / t.possible_sessions_4wk - t.attended_term / t.possible_sessions_term
    end as attendance_change_4wk,
    (t.possible_sessions_year - t.attended_year) >= 0.10 * t.possible_sessions_year
        and t.possible_sessions_year > 0 as persistent_absence,
    (t.possible_sessions_year - t.attended_year) >= 0.50 * t.possible_sessions_year
        and t.possible_sessions_year > 0 as severe_absence,
    t.unauthorised_term / nullif(t.possible_sessions_term, 0) as unauthorised_rate_term,
    (t.absent_year - t.unauthorised_term) / nullif(t.possible_sessions_year, 0) as other_absence_rate_year,
    t.late_marks_term,
    t.late_marks_4wk,
    coalesce(l.longest_absence_spell, 0) as longest_absence_spell,
    case when t.absent_year >= 6 then t.absent_monday_friday_year / t.absent_year end as monday_friday_absence_share,
    t.unexplained_n_marks,
    t.sessions_suspended_year
from totals as t
left join longest as l using (school_id, upn)
