"""Erasure of one person, the router's part (consumes `person.erased`, publishes `lead.erased`)."""

from services.router.erasure.handler import PersonErasedHandler

__all__ = ["PersonErasedHandler"]
