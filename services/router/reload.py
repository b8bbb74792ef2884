"""Hot reload of the config (rules, scoring, accounts, routing): on SIGHUP, or when the file changes.

The new file is loaded and compiled in full first; an invalid one is refused with the loader's
message (file, line, fix) and the running config stays. A batch in flight finishes on the config
it started with; decisions name the config version (a hash of the file) and the rules version.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
from collections.abc import Callable
from pathlib import Path

from services.router.domain.decision import Router
from services.router.qualification.check import load_checked
from shared.config import ConfigError, LeadRelayConfig
from shared.logging import get_logger

log = get_logger(__name__)


def config_version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def load_router(path: Path) -> tuple[LeadRelayConfig, Router]:
    """Raises ConfigError (or OSError) when the file cannot become a running config: a schema,
    syntax or CEL type error (services/router/qualification/check.py)."""
    config = load_checked(path)
    return config, Router.from_config(config, version=config_version(path))


class ConfigReloader:
    def __init__(
        self, path: Path, apply: Callable[[LeadRelayConfig, Router], None], poll_s: float = 2.0
    ) -> None:
        self._path = Path(path)
        self._apply = apply
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self.version: str | None = None
        self.refused: str | None = None  # the last refusal, for tests and health pages
        with contextlib.suppress(OSError):
            self.version = config_version(self._path)

    def request(self) -> None:
        self._wake.set()

    def reload(self) -> bool:
        """Load the file now; True when it changed and was applied."""
        try:
            version = config_version(self._path)
            if version == self.version:
                return False
            config, router = load_router(self._path)
        except (ConfigError, OSError) as exc:
            self.refused = str(exc)
            log.error("config_reload_refused", path=str(self._path), error=str(exc)[:2000])
            return False
        self._apply(config, router)
        self.version, self.refused = version, None
        log.info(
            "config_reloaded", path=str(self._path), version=version, ruleset=config.qualification.version
        )
        return True

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(
            NotImplementedError, RuntimeError, ValueError
        ):  # no signals off the main thread
            loop.add_signal_handler(signal.SIGHUP, self.request)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()
            self.reload()
