"""The ops dashboard: the live SLA board and contacts (fed by events), its queries and its page."""
