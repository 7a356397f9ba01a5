"""From a risk list to a mentoring caseload: places, the need profile, staff decisions and the caseload review.

:mod:`pipeline.caseload.policy` alone decides how many mentoring places a school has, who fills them and in which
order pupils are ranked; the shortlist, the evaluation and the audit all ask it.
"""
