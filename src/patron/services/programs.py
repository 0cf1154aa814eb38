"""Use cases of programs and their versioned configuration.

A configuration is never edited in place: each ``PUT`` validates the whole document and stores
it as the next immutable version; the program points at its current version, and every later
ledger entry records the version that computed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patron.domain.audit import Actor
from patron.domain.config import ProgramConfig, default_config, parse_config
from patron.domain.errors import DuplicateSlug, ProgramNotFound, ValidationFailed
from patron.domain.ids import new_id
from patron.domain.programs import Program, program_field_errors
from patron.services import audit
from patron.services.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class NewProgram:
    slug: str
    name: str
    currency: str
    timezone: str
    config: object | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class VersionedConfig:
    version: int
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProgramWithConfig:
    program: Program
    config: VersionedConfig


def create_program(
    uow: UnitOfWork, clock: Clock, actor: Actor, cmd: NewProgram
) -> ProgramWithConfig:
    """Create a program with configuration version 1.

    Raises: ValidationFailed (bad slug, currency, time zone, country or configuration),
    DuplicateSlug.
    """
    errors = program_field_errors(
        slug=cmd.slug, currency=cmd.currency, timezone=cmd.timezone, country=cmd.country
    )
    config: ProgramConfig | None = None
    try:
        config = default_config() if cmd.config is None else parse_config(cmd.config)
    except ValidationFailed as exc:
        errors += [type(e)(f"config.{e.path}", e.message, e.type) for e in exc.errors]
    if errors or config is None:
        raise ValidationFailed(errors)
    if uow.programs.slug_taken(cmd.slug):
        raise DuplicateSlug(f"a program with slug {cmd.slug!r} already exists", slug=cmd.slug)
    now = clock.now()
    program = Program(
        id=new_id(),
        slug=cmd.slug,
        name=cmd.name,
        currency=cmd.currency,
        timezone=cmd.timezone,
        country=cmd.country,
        config_version=1,
        created_at=now,
    )
    uow.programs.add(program)
    document = config.to_document()
    uow.programs.add_config(program.id, 1, document, now, actor.label)
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="program.created",
        target=("program", program.id),
        at=now,
        after={
            "slug": program.slug,
            "name": program.name,
            "currency": program.currency,
            "timezone": program.timezone,
            "config_version": 1,
        },
    )
    return ProgramWithConfig(program, VersionedConfig(1, document))


def get_program(uow: UnitOfWork, ref: str) -> Program:
    """Raises: ProgramNotFound."""
    program = uow.programs.get(ref)
    if program is None:
        raise ProgramNotFound(f"no program {ref!r}")
    return program


def current_config(uow: UnitOfWork, program: Program) -> VersionedConfig:
    document = uow.programs.get_config(program.id, program.config_version)
    if document is None:  # pragma: no cover - guarded by a foreign key
        raise ProgramNotFound(f"program {program.slug!r} has no configuration")
    return VersionedConfig(program.config_version, document)


def replace_config(
    uow: UnitOfWork, clock: Clock, actor: Actor, program: Program, document: object
) -> VersionedConfig:
    """Validate ``document`` and store it as the program's next configuration version.

    Raises: ValidationFailed.
    """
    config = parse_config(document)
    version = uow.programs.bump_config_version(program.id)
    canonical = config.to_document()
    now = clock.now()
    uow.programs.add_config(program.id, version, canonical, now, actor.label)
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="program.config_replaced",
        target=("program", program.id),
        at=now,
        before={"config_version": version - 1},
        after={"config_version": version},
    )
    return VersionedConfig(version, canonical)


_PARSED: dict[tuple[str, int], ProgramConfig] = {}
_PARSED_LIMIT = 1024


def load_config(uow: UnitOfWork, program: Program) -> ProgramConfig:
    """The program's current configuration, parsed.

    Versions are immutable, so a parsed version is cached per process by (program, version):
    the hot paths do not re-validate the document on every request.
    """
    return load_config_version(uow, program, program.config_version)


def load_config_version(uow: UnitOfWork, program: Program, version: int) -> ProgramConfig:
    """One stored version of the program's configuration, parsed (and cached)."""
    cache_key = (program.id, version)
    parsed = _PARSED.get(cache_key)
    if parsed is None:
        document = uow.programs.get_config(program.id, version)
        if document is None:
            raise ProgramNotFound(f"program {program.slug!r} has no configuration {version}")
        parsed = parse_config(document)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[cache_key] = parsed
    return parsed
