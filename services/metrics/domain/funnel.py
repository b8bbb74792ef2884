"""Funnel arithmetic: reached counts per stage and step conversion, from per-lead furthest ranks."""

from __future__ import annotations

from dataclasses import dataclass

from services.metrics.domain.stages import EXITS, MAIN_PATH, STAGE_LABELS


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    label: str
    reached: int
    conversion_from_previous: float | None  # reached(this) / reached(previous); None for the first step
    conversion_from_start: float | None


@dataclass(frozen=True)
class Funnel:
    steps: tuple[FunnelStep, ...]
    exits: dict[str, int]
    total: int


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def build_funnel(leads_by_furthest_rank: dict[int, int], exits: dict[str, int]) -> Funnel:
    """`leads_by_furthest_rank[r]` = leads whose furthest main-path stage has rank r.

    A lead that reached rank r counts in every stage 0..r, so reached(stage k) is the
    number of leads whose furthest rank is >= k (a suffix sum).
    """
    reached: list[int] = []
    running = 0
    for rank in range(len(MAIN_PATH) - 1, -1, -1):
        running += leads_by_furthest_rank.get(rank, 0)
        reached.append(running)
    reached.reverse()
    start = reached[0]
    steps = tuple(
        FunnelStep(
            stage=stage,
            label=STAGE_LABELS[stage],
            reached=reached[i],
            conversion_from_previous=None if i == 0 else _ratio(reached[i], reached[i - 1]),
            conversion_from_start=None if i == 0 else _ratio(reached[i], start),
        )
        for i, stage in enumerate(MAIN_PATH)
    )
    return Funnel(steps, {stage: exits.get(stage, 0) for stage in EXITS}, start)
