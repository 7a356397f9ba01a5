{#- The grade scale shared by every query that compares results: primary steps BLW, PKS, WTS, EXS, GDS count as
    grades 0 to 4 (so WTS -> EXS is one grade), U is 0, GCSE 9-1 grades with a fine grade ("6+", "5-") are a third
    of a grade either side, and anything else is read as a number when it is one (NULL otherwise). -#}
{% macro grade(result) -%}
case
            when {{ result }} in ('BLW', 'U') then 0.0
            when {{ result }} = 'PKS' then 1.0
            when {{ result }} = 'WTS' then 2.0
            when {{ result }} = 'EXS' then 3.0
            when {{ result }} = 'GDS' then 4.0
            when regexp_full_match({{ result }}, '[0-9]\+') then cast(left({{ result }}, 1) as double) + 1.0 / 3
            when regexp_full_match({{ result }}, '[0-9]-') then cast(left({{ result }}, 1) as double) - 1.0 / 3
            else try_cast({{ result }} as double)
        end
{%- endmacro %}
