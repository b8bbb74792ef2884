"""The column-wise summary (SQLite path) equals the domain's per-lead `summarize`, field for field,
on any mix of durations: negatives, band edges, the target itself, ties, missing parts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.metrics.domain.response_times import Sample, summarize
from services.metrics.response_times.summary import summarize_rows

EDGES = (-3.0, 0.0, 5.0, 15.0, 60.0, 7.5, 1e-9, 59.999999)
minutes = st.one_of(
    st.none(), st.sampled_from(EDGES), st.floats(-120, 10_000, allow_nan=False, allow_infinity=False)
)
rows = st.lists(
    st.tuples(minutes, minutes, minutes, st.sampled_from((None, "met", "breached"))), max_size=300
)


@settings(max_examples=300, deadline=None)
@given(rows=rows, target=st.sampled_from((5.0, 7.5, 15.0, 0.0)))
def test_column_wise_equals_the_domain_summary(
    rows: list[tuple[float | None, float | None, float | None, str | None]], target: float
) -> None:
    assert summarize_rows(rows, target) == summarize([Sample(*r) for r in rows], target)


def test_an_empty_scope() -> None:
    assert summarize_rows([], 5.0) == summarize([], 5.0)
