"""The earning rules engine (SPEC §3): pure evaluation of purchases and activity events."""

from patron.domain.rules.engine import (
    Award,
    Evaluation,
    Factor,
    Skip,
    evaluate_event,
    evaluate_purchase,
    period_key,
)
from patron.domain.rules.purchase import Event, Line, MemberState, Payment, Purchase

__all__ = [
    "Award",
    "Evaluation",
    "Event",
    "Factor",
    "Line",
    "MemberState",
    "Payment",
    "Purchase",
    "Skip",
    "evaluate_event",
    "evaluate_purchase",
    "period_key",
]
