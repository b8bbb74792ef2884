"""Lead profiles: identity (merge by normalised keys), account matching, duplicate window."""

from services.router.profiles.identity import AccountMatch, AccountMatcher, identity_key, normalise_email
from services.router.profiles.profile import Profile, merge

__all__ = ["AccountMatch", "AccountMatcher", "Profile", "identity_key", "merge", "normalise_email"]
