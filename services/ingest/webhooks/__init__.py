"""Webhooks from configured form tools: the source registry, rate limits and the endpoint."""
