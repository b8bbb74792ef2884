"""Slack and email senders. The notice is built at send time, so the lead cache has caught up
(the SLA deadline follows the assignment by a moment). Addresses and names are never logged."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.config import Contact, SmtpConfig
from services.delivery.notify.notice import Directory, Notice, build_notice, email_text, slack_blocks
from services.delivery.outcome import Outcome
from services.delivery.repository import DeliveryRepository, Message
from services.delivery.senders import post
from shared.events import CloudEvent


class _NoticeSource:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], directory: Directory, who: str) -> None:
        self._sessions = sessions
        self._directory = directory
        self._who = who

    async def notice(self, message: Message) -> Notice:
        event = CloudEvent.from_bytes(message.body)
        async with self._sessions() as session:
            lead = await DeliveryRepository(session).lead(message.lead_id)
        return build_notice(self._directory, self._who, event, event.typed(), lead)


class SlackSender(_NoticeSource):
    """POST a Block Kit message to the person's incoming webhook (URL from the environment)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Directory,
        who: str,
        contact: Contact,
        client: httpx.AsyncClient,
        clock: Clock,
        timeout_s: float = 15.0,
    ) -> None:
        super().__init__(sessions, directory, who)
        self._env = contact.slack_webhook_env or ""
        self._client = client
        self._clock = clock
        self._timeout_s = timeout_s

    async def send(self, message: Message) -> Outcome:
        url = os.environ.get(self._env)
        if not url:
            return Outcome(False, None, f"{self._env} is not set (the Slack incoming-webhook URL)")
        body = json.dumps(slack_blocks(await self.notice(message))).encode()
        headers = {"content-type": "application/json"}
        return await post(self._client, url, body, headers, self._timeout_s, self._clock)


class EmailSender(_NoticeSource):
    """SMTP with aiosmtplib (async: no worker thread, a slow mail server only holds its own slot)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Directory,
        who: str,
        contact: Contact,
        smtp: SmtpConfig,
    ) -> None:
        super().__init__(sessions, directory, who)
        self._address = contact.email or ""
        self._smtp = smtp

    async def send(self, message: Message) -> Outcome:
        subject, text = email_text(await self.notice(message))
        mail = EmailMessage()
        mail["From"] = self._smtp.sender
        mail["To"] = self._address
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False)
        # Stable per (event, recipient): a mail client shows a resend as the same message.
        mail["Message-ID"] = f"<{message.message_id}@leadrelay>"
        mail.set_content(text)
        smtp = self._smtp
        user = os.environ.get(smtp.username_env or "", "") or None
        try:
            await aiosmtplib.send(
                mail,
                hostname=smtp.host,
                port=smtp.port,
                timeout=smtp.timeout_s,
                start_tls=smtp.starttls,
                username=user,
                password=os.environ.get(smtp.password_env or "", "") if user else None,
            )
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome(False, exc.code, f"SMTP {exc.code}", permanent=500 <= exc.code < 600)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome(False, None, f"SMTP failed: {type(exc).__name__}")
        return Outcome(True, 250, "250 accepted by the SMTP server")
