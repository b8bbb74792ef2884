"""GET /v1/funnel: reached counts, conversion, dollar funnel and cost per stage, per cohort."""
