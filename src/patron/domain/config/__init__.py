"""A program's configuration document (API.md): wallets, earning, rules, tiers and referrals,
and the sections of messages and the member portal.

``parse_config`` validates a whole document and returns a frozen ``ProgramConfig``;
``config_errors`` lists what is wrong with one without raising. The sections live in their own
modules: ``wallets``, ``rules``, ``tiers``, ``messages``, ``portal``; ``document`` ties them
together and checks the references between them.
"""

from patron.domain.config.document import (
    Earning,
    ProgramConfig,
    config_errors,
    default_config,
    parse_config,
)
from patron.domain.config.rules import RULE_KINDS, Rule
from patron.domain.config.tiers import Referrals, Tiers
from patron.domain.config.wallets import Wallet

__all__ = [
    "RULE_KINDS",
    "Earning",
    "ProgramConfig",
    "Referrals",
    "Rule",
    "Tiers",
    "Wallet",
    "config_errors",
    "default_config",
    "parse_config",
]
