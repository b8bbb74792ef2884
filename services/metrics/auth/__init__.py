"""Who may read the metrics: people (login, session cookie) and integrations (API keys), by role.

`viewer` reads every report and the dashboard with personal data masked; `admin` sees it unmasked
and manages keys and users. Everything is in the metrics database; only hashes are stored.
"""

from services.metrics.auth.principal import Principal, Role

__all__ = ["Principal", "Role"]
