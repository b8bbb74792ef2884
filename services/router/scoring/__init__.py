"""Scoring: fit + engagement with time decay, explained part by part."""

from services.router.scoring.model import Score, Scorer

__all__ = ["Score", "Scorer"]
