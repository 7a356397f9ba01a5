{#- A result read as a number only when it is written as one: digits, with a decimal part or not ("104", "5.4").
    Anything else is NULL: DuckDB's own cast would read "+-0", "1_000", "1e3", "nan" and "inf" as numbers, which no
    MIS writes for a grade or score and Spark's cast does not, so every engine reads a result the same way. -#}
{% macro number(result) -%}
case when regexp_full_match({{ result }}, '[0-9]+([.][0-9]+)?') then cast({{ result }} as double) end
{%- endmacro %}
{#- A whole number (minutes late, sessions, behaviour points, a reading age's months) read only when it is written as
    one: digits with an optional sign ("131", "-3", "+2"), and a decimal part of zeros only ("12.0", as a spreadsheet
    writes a whole number it holds as a number). Anything else is NULL, and so is a number too large for an integer:
    DuckDB's own cast would read "12.5" as 13 (rounded), "1_0" as 10, "1e3" as 1000 and "0x10" as 16. The zeros are
    cut off before the cast, which reads the digits alone, so DuckDB and Spark (whose try_cast reads "12.0" as NULL)
    agree. -#}
{% macro whole_number(text) -%}
case when regexp_full_match({{ text }}, '[+-]?[0-9]+([.]0+)?')
    then try_cast(split_part({{ text }}, '.', 1) as integer) end
{%- endmacro %}
{#- A reading age in months: years:months ("9:06", months 0 to 11, one colon; NULL otherwise) or whole months
    ("131"). -#}
{% macro reading_age_months(result) -%}
case
            when not contains({{ result }}, ':') then {{ whole_number(result) }}
            when regexp_full_match({{ result }}, '[^:]*:[^:]*')
                then 12 * ({{ whole_number("split_part(" ~ result ~ ", ':', 1)") }})
                    + case when ({{ whole_number("split_part(" ~ result ~ ", ':', 2)") }}) between 0 and 11
                        then ({{ whole_number("split_part(" ~ result ~ ", ':', 2)") }}) end
        end
{%- endmacro %}
{#- The grade scale shared by every query that compares results: primary steps BLW, PKS, WTS, EXS, GDS (in any
    case) count as grades 0 to 4 (so WTS -> EXS is one grade), U is 0, GCSE 9-1 grades with a fine grade ("6+",
    "5-") are a third of a grade either side, and anything else is read as a number when it is one from 0 to 9
    (``number``; NULL otherwise: a "65", a percentage written where a grade goes, is no grade 65, 56 above target). -#}
{% macro grade(result) -%}
case
            when upper({{ result }}) in ('BLW', 'U') then 0.0
            when upper({{ result }}) = 'PKS' then 1.0
            when upper({{ result }}) = 'WTS' then 2.0
            when upper({{ result }}) = 'EXS' then 3.0
            when upper({{ result }}) = 'GDS' then 4.0
            when regexp_full_match({{ result }}, '[0-9]\+') then cast(left({{ result }}, 1) as double) + 1.0 / 3
            when regexp_full_match({{ result }}, '[0-9]-') then cast(left({{ result }}, 1) as double) - 1.0 / 3
            when {{ number(result) }} between 0 and 9 then {{ number(result) }}
        end
{%- endmacro %}
