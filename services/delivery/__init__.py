"""The deliverer: handoff events out to CRMs (signed webhooks), reps (Slack, email) and CRM owners."""
