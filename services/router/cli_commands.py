"""`leadrelay rules test` and `leadrelay rules backtest`: a decision explained, and rules replayed.

`test` decides one lead against a config file with no stored state (empty counters, no profile
history) and prints the decision record. `backtest` replays the stored profiles seen in a period
through the candidate file, with simulated routing counters, and compares with what was decided.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from services.router.domain.decision import Router
from services.router.profiles.repository import ProfileRepository
from services.router.reload import load_router
from services.router.routing import Assignment, TeamState
from shared.config import ConfigError
from shared.events import LeadData


def explain(path: Path, lead_json: str, source: str, at: datetime) -> dict[str, Any]:
    _, router = load_router(path)
    lead = LeadData.model_validate(json.loads(lead_json))
    assessment = router.assess("test-lead", "rules-test", lead, source, at, None)
    placement = None
    if assessment.triage.team is not None:
        placement, _ = router.place(assessment, TeamState(assessment.triage.team.team.name), at)
    return router.decide(assessment, placement, at).explained()


def render(record: dict[str, Any], console: Console) -> None:
    e = escape
    outcome = record["outcome"]
    colour = {"qualified": "green", "disqualified": "red"}.get(outcome, "yellow")
    title = f"[bold {colour}]{outcome}[/]" + (
        f" by rule [bold]{e(record['rule'])}[/]" if record["rule"] else ""
    )
    tree = Tree(f"{title}  (rules {e(record['ruleset_version'])}, config {record['config_version']})")
    rules = tree.add("[bold]rules[/] (in evaluation order)")
    marks = {
        "rule_matched": "[green]✔ matched[/]",
        "rule_not_matched": "[dim]✘ no match[/]",
        "rule_error": "[red]! error[/]",
    }
    for reason in record["rules"]:
        mark = marks.get(reason["code"], "[yellow]→[/]")
        line = f"{mark}  {e(reason['message'])}"
        if reason["code"] == "rule_error":
            line += f"  [red]{e(reason['detail'].get('error', ''))}[/]"
        rules.add(line)
    score = record["score"]
    if score:
        node = tree.add(
            f"[bold]score[/] {score['total']} = fit {score['fit']} + engagement {score['engagement']}"
        )
        for part in score["breakdown"]:
            extra = f" [red]{e(part['error'])}[/]" if "error" in part else ""
            node.add(f"{part['part']}: {e(part['name'])} {part['points']:+}{extra}")
    account = record["account"]
    tree.add(
        f"[bold]account[/] {e(account['name'])} (by {account['by']}, owner {account['owner']})"
        if account
        else "[bold]account[/] none matched"
    )
    routing = record.get("routing")
    if routing:
        node = tree.add(f"[bold]routing[/] team {e(routing['team'])}, policy {routing['policy']}")
        for reason in routing["reasons"]:
            node.add(e(reason["message"]))
        node.add(f"candidates: {', '.join(routing['candidates'])}")
        for skip in routing["skipped"]:
            node.add(f"[dim]skipped {skip['rep']}: {skip['why']}[/]")
        who = (
            f"[bold green]{e(routing['owner'])}[/]"
            if routing["owner"]
            else f"[yellow]queue {e(routing['queue'])}[/]"
        )
        node.add(f"owner: {who}")
    else:
        tree.add("[bold]routing[/] not routed (only qualified leads are)")
    console.print(tree)


@dataclass
class Backtest:
    leads: int = 0
    mql_before: int = 0
    mql_after: int = 0
    changed: list[tuple[str, str, str]] = field(default_factory=list)
    reps_before: Counter[str] = field(default_factory=Counter)
    reps_after: Counter[str] = field(default_factory=Counter)


async def backtest(path: Path, database_url: str, since: datetime, until: datetime) -> Backtest:
    from shared.db import create_engine, create_session_factory

    _, router = load_router(path)
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            profiles = await ProfileRepository(session).seen_between(since, until)
    finally:
        await engine.dispose()
    return replay(router, profiles)


def replay(router: Router, profiles: list[Any]) -> Backtest:
    result = Backtest()
    states: dict[str, TeamState] = {}
    for p in profiles:
        at = p.routed_at or p.last_seen
        assessment = router.evaluate(p, p.lead_id, f"backtest:{p.key}", p.source, at)
        outcome, owner = assessment.triage.qualification.outcome, None
        choice = assessment.triage.team
        if choice is not None:
            name = choice.team.name
            placement, states[name] = router.place(assessment, states.get(name) or TeamState(name), at)
            owner = placement.rep_id if isinstance(placement, Assignment) else None
        result.leads += 1
        result.mql_before += p.outcome == "qualified"
        result.mql_after += outcome == "qualified"
        result.reps_before[p.owner or "—"] += p.outcome == "qualified"
        result.reps_after[owner or "—"] += outcome == "qualified"
        if (p.outcome or "nurtured") != outcome:
            result.changed.append((p.lead_id, p.outcome or "—", outcome))
    return result


def print_backtest(result: Backtest, console: Console, show: int = 20) -> None:
    summary = Table(title="Backtest: stored decisions vs candidate rules")
    for column in ("", "before", "after", "change"):
        summary.add_column(column, justify="right" if column else "left")
    summary.add_row("leads replayed", str(result.leads), str(result.leads), "")
    summary.add_row(
        "MQLs", str(result.mql_before), str(result.mql_after), f"{result.mql_after - result.mql_before:+d}"
    )
    summary.add_row("outcome changed", "", str(len(result.changed)), "")
    console.print(summary)
    reps = Table(title="MQLs per rep (— = queued / unassigned)")
    for column in ("rep", "before", "after", "change"):
        reps.add_column(column, justify="left" if column == "rep" else "right")
    for rep in sorted(set(result.reps_before) | set(result.reps_after)):
        b, a = result.reps_before[rep], result.reps_after[rep]
        if a or b:
            reps.add_row(escape(rep), str(b), str(a), f"{a - b:+d}")
    console.print(reps)
    if result.changed:
        shown = min(show, len(result.changed))
        changed = Table(title=f"Leads whose outcome changes (first {shown} of {len(result.changed)})")
        for column in ("lead", "before", "after"):
            changed.add_column(column)
        for lead_id, before, after in result.changed[:show]:
            changed.add_row(escape(lead_id), before, after)
        console.print(changed)


def register(rules_app: typer.Typer, console: Console, fail: Any) -> None:
    """Add `test` and `backtest` to the CLI's `rules` group."""
    out = Console()

    @rules_app.command("test")
    def rules_test(
        file: Annotated[Path, typer.Argument(help="config file with the rules to try")],
        lead: Annotated[str, typer.Option(help="the lead as JSON (canonical fields), or @file.json")],
        source: Annotated[str, typer.Option(help="the source it came from")] = "api",
        at: Annotated[
            datetime | None, typer.Option(help="decide as of this time (default: now, UTC)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the decision record as JSON")] = False,
    ) -> None:
        """Decide one lead with FILE's rules, scoring and routing, and explain the decision."""

        text = Path(lead[1:]).read_text(encoding="utf-8") if lead.startswith("@") else lead
        when = (at.replace(tzinfo=UTC) if at and at.tzinfo is None else at) or datetime.now(UTC)
        try:
            record = explain(file, text, source, when)
        except ConfigError as exc:
            fail(str(exc))
            return
        except ValueError as exc:  # JSON or lead fields
            fail(f"--lead: {exc}")
            return
        if as_json:
            out.print_json(json.dumps(record))
        else:
            render(record, out)

    @rules_app.command("backtest")
    def rules_backtest(
        file: Annotated[Path, typer.Argument(help="config file with the candidate rules")],
        since: Annotated[datetime, typer.Option(help="first day of the period (event time, UTC)")],
        until: Annotated[datetime, typer.Option(help="end of the period, exclusive")],
        show: Annotated[int, typer.Option(min=0, help="changed leads to list")] = 20,
    ) -> None:
        """Replay stored profiles seen in [since, until) through FILE: MQLs and reps before vs after."""

        from services.router.settings import RouterSettings

        bounds = [d.replace(tzinfo=UTC) if d.tzinfo is None else d for d in (since, until)]
        try:
            result = asyncio.run(
                backtest(file, RouterSettings().effective_database_url, bounds[0], bounds[1])
            )
        except ConfigError as exc:
            fail(str(exc))
            return
        print_backtest(result, out, show)
