"""Synthetic MIS exports for a trust of schools, realistic enough to build and evaluate the pipeline on."""

from pipeline.sample.generator import SampleResult, SampleSpec, generate_trust

__all__ = ["SampleResult", "SampleSpec", "generate_trust"]
