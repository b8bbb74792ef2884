"""GET /v1/leads/{id}/timeline: one lead's stages and every routing decision with its reasons."""
