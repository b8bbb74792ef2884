"""Erasure of one person, the deliverer's part: on `person.erased` / `lead.erased`, forget the lead.

- `delivery_leads` (who and which company, for notifications): the row is deleted.
- `delivery_messages`: every stored body of the lead's messages is rewritten with the person
  erased (shared/privacy.py); one still pending goes out erased. Error texts are scrubbed too.
- `delivery_attempts`: the reasons of those messages' attempts are scrubbed (a receiver may have
  echoed the body back in its error).

Idempotent (erasing twice changes nothing more), so no inbox: whichever of the two events comes
first does the work. Registered in bootstrap.py by wrapping the consumer handler
(shared/erasure_handling.py), so the rest of the deliverer is untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.tables import attempts, leads, messages
from shared.events import CloudEvent, Event, LeadErased, PersonErased
from shared.logging import get_logger
from shared.privacy import Scrubber, erase_event, personal_values, pseudonym_email

log = get_logger(__name__)


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def forget_lead(self, lead_id: str) -> dict[str, Any]:
        """Delete the lead cache row; the person it held ({} if none)."""
        stmt = select(leads.c.person).where(leads.c.lead_id == lead_id)
        person = (await self.session.execute(stmt)).scalar_one_or_none()
        await self.session.execute(delete(leads).where(leads.c.lead_id == lead_id))
        return dict(person) if isinstance(person, dict) else {}

    async def rewrite_messages(
        self, lead_id: str, body: Callable[[bytes], bytes], text: Callable[[str], str]
    ) -> int:
        c = messages.c
        rows = (
            await self.session.execute(select(c.id, c.body, c.last_error).where(c.lead_id == lead_id))
        ).all()
        if not rows:
            return 0
        await self.session.execute(
            update(messages)
            .where(c.id == bindparam("row_id"))
            .values(body=bindparam("new_body"), last_error=bindparam("new_error")),
            [
                {
                    "row_id": r.id,
                    "new_body": body(r.body),
                    "new_error": text(r.last_error) if r.last_error else r.last_error,
                }
                for r in rows
            ],
        )
        a = attempts.c
        tries = (
            await self.session.execute(select(a.id, a.reason).where(a.message_pk.in_([r.id for r in rows])))
        ).all()
        if tries:
            await self.session.execute(
                update(attempts).where(a.id == bindparam("row_id")).values(reason=bindparam("new_reason")),
                [{"row_id": t.id, "new_reason": text(t.reason)} for t in tries],
            )
        return len(rows)


class DeliveryEraser:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, event: CloudEvent, payload: Event) -> bool:
        if not isinstance(payload, PersonErased | LeadErased):
            return False
        lead_id = event.subject
        pseudonym = pseudonym_email(payload.erasure_id)
        async with self._sessions() as session, session.begin():
            repo = ErasureRepository(session)
            values = personal_values(await repo.forget_lead(lead_id))
            scrub = Scrubber(values)
            count = await repo.rewrite_messages(
                lead_id, lambda raw: erase_event(raw, values, pseudonym), scrub.text
            )
        log.info("lead_erased", lead_id=lead_id, event_type=event.type, messages=count)
        return True
