"""Rep notifications: Slack (Block Kit over an incoming webhook) and email (SMTP)."""
