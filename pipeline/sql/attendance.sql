{#- Attendance rules the queries share, as the DfE states them (the categories come from pipeline/codes.py; a test
    checks that these macros and its ATTENDED, ABSENT and POSSIBLE agree). -#}
{% macro attended(category) -%}
{{ category }} in ('present', 'approved_activity')
{%- endmacro %}
{% macro absent(category) -%}
{{ category }} in ('authorised', 'unauthorised')
{%- endmacro %}
{% macro possible(category) -%}
{{ category }} in ('present', 'approved_activity', 'authorised', 'unauthorised')
{%- endmacro %}
