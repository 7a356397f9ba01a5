{#- The raw layer's rules that ingest's queries share (pipeline/warehouse.py says what its tables hold). -#}
{% macro reusable() -%}
clean and delivery in (
    select delivery from deliveries where school_id = $school and rules = $rules and checked_on <= $today
)
{%- endmacro %}
