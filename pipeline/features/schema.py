"""The feature table's contract, checked before anything is scored."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series


class FeatureTable(pa.DataFrameModel):
    """One row per pupil on roll on the as-of date. Missing values mean "no data", never "fine"."""

    school_id: Series[str]
    upn: Series[str] = pa.Field(str_length={"min_value": 13, "max_value": 13})
    year_group: Series[str] = pa.Field(nullable=True)
    attendance_rate_year: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    attendance_rate_term: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    attendance_rate_4wk: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    attendance_rate_term_ex_holiday: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    attendance_change_4wk: Series[float] = pa.Field(ge=-1, le=1, nullable=True)
    unauthorised_rate_term: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    other_absence_rate_year: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    longest_absence_spell: Series[float] = pa.Field(ge=0, nullable=True)
    monday_friday_absence_share: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    late_marks_4wk: Series[float] = pa.Field(ge=0, nullable=True)
    negative_points_term: Series[float] = pa.Field(ge=0, nullable=True)
    negative_points_4wk: Series[float] = pa.Field(ge=0, nullable=True)
    suspensions_year: Series[float] = pa.Field(ge=0, nullable=True)
    english_grade_gap: Series[float] = pa.Field(ge=-10, le=10, nullable=True)
    maths_grade_gap: Series[float] = pa.Field(ge=-10, le=10, nullable=True)
    core_grade_change: Series[float] = pa.Field(ge=-10, le=10, nullable=True)
    reading_age_gap_months: Series[float] = pa.Field(ge=-240, le=240, nullable=True)
    ks2_mean_scaled_score: Series[float] = pa.Field(ge=80, le=120, nullable=True)
    cat4_mean_sas: Series[float] = pa.Field(ge=59, le=141, nullable=True)

    class Config:
        coerce = True
        strict = False
        unique = ("school_id", "upn")
