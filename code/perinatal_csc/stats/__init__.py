"""Statistics stage: descriptive summaries, group and paired comparisons, participant flow, models.

Every analysis module named in ``pipeline.ANALYSIS_STAGES`` exposes
``results(cohort, config) -> dict[str, DataFrame]`` of tidy tables; nothing here formats output.
"""
