"""Erasure of one person (GDPR right to erasure), ingest's part: find the person's leads, tell
everyone downstream (`person.erased`, one per lead), and erase ingest's own copies."""

from services.ingest.erasure.endpoints import router
from services.ingest.erasure.service import ErasureReceipt, ErasureService

__all__ = ["ErasureReceipt", "ErasureService", "router"]
