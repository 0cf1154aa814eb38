"""The messages' speed targets (issue 16): 10,000 queued messages delivered to a local SMTP
server at ≥ 200 messages/s, and the earn benchmark within 5% of its figure without templates.

    .venv/bin/python -m bench.suite --only messages [--quick] [--backends sqlite,postgres]

- **delivery**: 10,000 members enrolled with email consent (2,000 with ``--quick``); their
  welcome emails are planned (timed: facts/s) and then delivered by the worker's delivery step
  (``messages.deliver_due``, timed: messages/s) through the real SMTP transport to a local
  aiosmtpd server running in its own process (a sink that accepts and discards), each result
  recorded in its own transaction as in production.
- **earn with templates**: the earn-over-HTTP load of ``bench.suite`` against a program with
  every template turned off and another with every template on and every member consenting,
  both behind one server, in rounds ordered off, on, on, off (three times; the ratio of the
  medians); messages are planned by the worker after commit, never in the purchase's
  transaction, so the ratio shows what templates cost a purchase (target ≥ 0.95).
"""

from __future__ import annotations

import asyncio
import smtplib
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from types import ModuleType
from typing import Any

from patron.adapters.messaging.smtp import SmtpTransport
from patron.domain import messages as rules
from patron.domain.audit import CLI
from patron.services import api_keys, members, message_templates, messages, programs
from patron.services.demo import EXAMPLE_CONFIG
from patron.services.ledger import StoppedClock
from patron.services.transactions import run_in_transaction


def _suite() -> ModuleType:
    """The suite's helpers (imported late: the suite imports this module)."""
    from bench import suite

    return suite


CONFIG: dict[str, Any] = {**EXAMPLE_CONFIG, "messages": {"frequency_caps": {"email": None}}}


def _sink(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "aiosmtpd", "-n"),
            *("-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=1) as probe:
                probe.noop()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the SMTP sink did not start") from None
            time.sleep(0.1)


def _program(box: Any, slug: str, *, active: bool, every: bool = False) -> Any:
    """A program whose templates are all off, or with the welcome email on (``active``), or
    with every template on (``every``)."""
    suite = _suite()
    clock = StoppedClock(suite.NOW - timedelta(days=1))
    made = run_in_transaction(
        box.uow,
        lambda uow: programs.create_program(
            uow,
            clock,
            CLI,
            programs.NewProgram(
                slug=slug, name="Bench", currency="USD", timezone="UTC", config=CONFIG
            ),
        ),
    )
    program = made.program
    wanted = {("member.enrolled", "email")} if active else set()
    if every:
        wanted = {(event, channel) for event in rules.EVENTS for channel in rules.CHANNELS}

    def templates(uow: Any) -> None:
        for event in rules.EVENTS:
            for channel in rules.CHANNELS:
                template = message_templates.effective(
                    uow, program, programs.load_config(uow, program), event, channel
                )
                message_templates.save(
                    uow,
                    program,
                    CLI,
                    clock.now(),
                    event,
                    channel,
                    subject=template.subject,
                    body=template.body,
                    category=template.category,
                    active=(event, channel) in wanted,
                )

    run_in_transaction(box.uow.scoped(program.id), templates)
    return program


def _enrol(box: Any, program: Any, count: int) -> None:
    suite = _suite()
    clock = StoppedClock(suite.NOW)
    scoped = box.uow.scoped(program.id)
    for start in range(0, count, 500):

        def enrol(uow: Any, start: int = start) -> None:
            for n in range(start, min(start + 500, count)):
                members.enrol_member(
                    uow,
                    clock,
                    CLI,
                    program,
                    members.NewMember(
                        external_id=f"M-{n}",
                        email=f"member{n}@example.com",
                        first_name="Ada",
                        consents={"email": members.ConsentInput(granted=True)},
                    ),
                )

        run_in_transaction(scoped, enrol)


def delivery_bench(backend: str, url: str, quick: bool) -> None:
    suite = _suite()
    count = 2000 if quick else 10_000
    box = suite.container_for(url)
    program = _program(box, "mail", active=True)
    _enrol(box, program, count)
    port = suite.free_port()
    sink = _sink(port)
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}", "Bench <bench@example.com>")
    outlets = messages.Outlets(transport, None, "https://loyalty.example.com")
    try:
        started = time.perf_counter()
        planned = messages.plan(box.uow, program.id, suite.NOW, outlets.base_url)
        planning = time.perf_counter() - started
        started = time.perf_counter()
        handled = messages.deliver_due(box.uow, program.id, suite.NOW, outlets)
        sending = time.perf_counter() - started
    finally:
        transport.close()
        sink.terminate()
        sink.wait(10)
        box.close()
    assert planned == count, (planned, count)
    assert handled == count, (handled, count)
    suite.record(
        backend,
        "messages_delivery",
        {
            "messages": count,
            "planned_per_s": round(planned / planning),
            "delivered_per_s": round(handled / sending),
            "target_per_s": 200,
            "ratio_to_target": round(handled / sending / 200, 2),
        },
    )


def _earn_program(box: Any, slug: str, *, active: bool) -> tuple[str, list[str], str]:
    """A program with 200 consenting members and a POS key: (slug, member ids, secret)."""
    program = _program(box, slug, active=active, every=active)
    clock = StoppedClock(_suite().NOW - timedelta(days=1))
    scoped = box.uow.scoped(program.id)

    def enrol(uow: Any) -> list[str]:
        return [
            members.enrol_member(
                uow,
                clock,
                CLI,
                program,
                members.NewMember(
                    external_id=f"B-{n}",
                    email=f"b{n}@example.com",
                    consents={"email": members.ConsentInput(granted=True)},
                ),
            ).id
            for n in range(200)
        ]

    ids = run_in_transaction(scoped, enrol)
    key = run_in_transaction(
        scoped,
        lambda uow: api_keys.issue_key(uow, clock, CLI, program=program, name="b", role="pos"),
    )
    return slug, ids, key.secret


def earn_bench(backend: str, url: str, quick: bool) -> None:
    """Both programs behind one server, measured in rounds ordered off, on, on, off, three times (a
    drift over the run, such as the tables growing or autovacuum starting, weighs on both
    alike); each side's figure is the median of its six rounds (a checkpoint or a burst of
    other work on the two cores spoils one round, not the figure)."""
    suite = _suite()
    count = 100 if quick else 500  # per round; twelve rounds
    box = suite.container_for(url)
    programs_ = {
        False: _earn_program(box, "earn-off", active=False),
        True: _earn_program(box, "earn-on", active=True),
    }
    box.close()
    env = {"PATRON_DATABASE_URL": url, "PATRON_RUN_JOBS": "false", "PATRON_POOL_SIZE": "8"}
    workers = 2 if url.startswith("postgresql") else 1
    rates: dict[bool, list[float]] = {False: [], True: []}
    rounds: list[str] = []
    with suite.uvicorn("patron.api.app:create_app", env, workers) as (base, _):
        for round_, active in enumerate((False, True, True, False) * 3):
            slug, ids, secret = programs_[active]
            tag = f"{'A' if active else 'I'}{round_}"
            path = f"/v1/programs/{slug}/purchases"
            headers = {"Authorization": f"Bearer {secret}"}
            if round_ < 2:  # each program's first round is warmed first
                warm = [suite.body(f"{tag}W-{i}", {"id": ids[i % len(ids)]}) for i in range(100)]
                asyncio.run(suite.load(base, path, headers, warm, 16))
            bodies = [suite.body(f"{tag}-{i}", {"id": ids[i % len(ids)]}) for i in range(count)]
            spent, _, errors = asyncio.run(suite.load(base, path, headers, bodies, 16))
            assert errors == 0
            rates[active].append(count / spent)
            rounds.append(f"{'on' if active else 'off'} {count / spent:.0f}")
    without, with_templates = statistics.median(rates[False]), statistics.median(rates[True])
    suite.record(
        backend,
        "messages_earn",
        {
            "purchases_per_s_without_templates": round(without),
            "purchases_per_s_with_templates": round(with_templates),
            "ratio": round(with_templates / without, 3),
            "target_ratio": 0.95,
            "rounds_per_s": ", ".join(rounds),
        },
    )


def messages_bench(backend: str, url: str, quick: bool) -> None:
    delivery_bench(backend, url, quick)
    earn_bench(backend, url, quick)
