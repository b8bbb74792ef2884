"""Who a submission is: normalised identity keys, and the configured account it belongs to.

Normalising an email folds the usual aliases of one mailbox (case, `+tags`, Gmail's dots) so two
forms filled by one person merge. Free-mail domains never match an account: a gmail.com address
says nothing about the employer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.config.schema import AccountConfig
from shared.events import LeadData

_GMAIL = {"gmail.com", "googlemail.com"}
_COMPANY_SUFFIXES = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|sarl|bv|nv|plc|corp|corporation|co|company)\b\.?"
)


def normalise_email(email: str) -> str:
    local, _, domain = email.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    return normalise_email(email).partition("@")[2]


def normalise_company(name: str) -> str:
    folded = re.sub(r"[^a-z0-9 ]+", " ", name.lower())
    return " ".join(_COMPANY_SUFFIXES.sub(" ", folded).split())


def identity_key(lead: LeadData, keys: Sequence[str]) -> str:
    """The first configured key the lead has: `email:<normalised>` or `phone:<digits>`."""
    for key in keys:
        if key == "phone" and lead.phone:
            digits = re.sub(r"\D", "", lead.phone)
            if len(digits) >= 7:
                return f"phone:{digits}"
        if key == "email":
            return f"email:{normalise_email(lead.email)}"
    return f"email:{normalise_email(lead.email)}"  # every lead has an email


@dataclass(frozen=True)
class AccountMatch:
    name: str
    owner: str | None
    by: str  # domain | company

    def as_json(self) -> dict[str, str | None]:
        return {"name": self.name, "owner": self.owner, "by": self.by}


class AccountMatcher:
    def __init__(self, accounts: Sequence[AccountConfig], free_mail: Sequence[str]) -> None:
        self._free = {d.lower() for d in free_mail}
        self._by_domain: dict[str, AccountConfig] = {}
        self._by_company: dict[str, AccountConfig] = {}
        for account in accounts:
            for domain in account.domains:
                self._by_domain.setdefault(domain, account)
            for name in (account.name, *account.aliases):
                self._by_company.setdefault(normalise_company(name), account)

    def is_free_mail(self, email: str) -> bool:
        return email_domain(email) in self._free

    def match(self, email: str, company: str | None) -> AccountMatch | None:
        domain = email_domain(email)
        if domain not in self._free:
            found = self._by_domain.get(domain)
            if found is None:  # a subdomain (eu.acme.com) belongs to its parent's account
                parts = domain.split(".")
                found = next(
                    (
                        self._by_domain[d]
                        for i in range(1, len(parts) - 1)
                        if (d := ".".join(parts[i:])) in self._by_domain
                    ),
                    None,
                )
            if found is not None:
                return AccountMatch(found.name, found.owner, "domain")
        if company:
            found = self._by_company.get(normalise_company(company))
            if found is not None:
                return AccountMatch(found.name, found.owner, "company")
        return None
