"""The gradient-boosting challenger fits when a feature has no value yet in the training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.evaluate.compare import CHALLENGER_FEATURES, Challenger


def test_a_feature_with_no_value_in_training_is_left_out_not_fatal() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({c: rng.random(200) for c in CHALLENGER_FEATURES}).assign(core_grade_change=np.nan)
    y = (train["attendance_rate_term"] < 0.3).astype(int)
    model = Challenger().fit(train, y)
    assert not model.used_[list(CHALLENGER_FEATURES).index("core_grade_change")]
    later = train.assign(core_grade_change=rng.random(200))  # known later: still scored on what was learned
    p = model.predict_proba(later)[:, 1]
    assert p.shape == (200,)
    assert p[y.to_numpy() == 1].mean() > p[y.to_numpy() == 0].mean()
