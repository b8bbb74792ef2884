"""Erasure of one person, the metrics part: their contact row goes, the PII-free facts stay."""

from services.metrics.erasure.handler import MetricsEraser

__all__ = ["MetricsEraser"]
