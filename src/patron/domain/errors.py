"""The error tree of Patron.

Every failure a caller can cause is a domain fact with a stable snake_case ``code``. HTTP status
codes exist only at the API edge (``patron.api.problems``); the CLI maps the same families to exit
codes. The families::

    PatronError                      code            HTTP  CLI exit
    ├── InvalidInput                 validation_error 422   2
    │   └── ValidationFailed         (carries FieldError list with paths)
    ├── Unauthenticated              unauthenticated  401   3
    ├── Forbidden                    forbidden        403   3
    ├── NotFound                     not_found        404   4
    │   ├── ProgramNotFound          program_not_found
    │   ├── MemberNotFound           member_not_found
    │   ├── EntryNotFound            entry_not_found
    │   ├── PurchaseNotFound         purchase_not_found
    │   ├── RewardNotFound           reward_not_found
    │   ├── RedemptionNotFound       redemption_not_found
    │   ├── VoucherNotFound          voucher_not_found
    │   └── WalletNotConfigured      wallet_not_configured (no Apple or Google pass settings)
    ├── Conflict                     conflict         409   5
    │   ├── IdempotencyConflict      idempotency_conflict
    │   ├── IdempotencyInProgress    idempotency_in_progress
    │   ├── DuplicateSlug            program_slug_taken
    │   ├── IdentifierTaken          identifier_taken
    │   ├── BusinessKeyConflict      business_key_conflict
    │   ├── AlreadyCancelled         already_cancelled
    │   ├── AlreadyClaimed           purchase_already_claimed
    │   ├── RewardCodeTaken          reward_code_taken
    │   └── VoucherAlreadyUsed       voucher_already_used
    └── BusinessRuleViolation        business_rule_violation 422  6
        ├── InsufficientBalance      insufficient_balance
        ├── MemberFrozen             member_frozen
        ├── MemberInactive           member_inactive (closed or erased)
        ├── PersonErased             person_erased (an import row matches an erased member)
        ├── NotCancellable           not_cancellable
        ├── ClaimRefused             claim_refused (window closed, purchase refunded)
        ├── RewardUnavailable        reward_unavailable (with the reason)
        ├── VoucherExpired           voucher_expired
        └── VoucherCancelled         voucher_cancelled

Subclasses set ``code`` (and may set ``title``); messages are written for the person who sent
the request, never containing another program's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a dotted/indexed path into the input and what is wrong with it."""

    path: str
    message: str
    type: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "type": self.type}


RESERVED_PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "code", "instance"})


class PatronError(Exception):
    """Base of every error Patron raises on purpose."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"

    def __init__(self, detail: str, **extra: Any) -> None:
        # ``extra`` becomes members of the problem+json body beside its own fields.
        taken = RESERVED_PROBLEM_FIELDS.intersection(extra)
        if taken:
            raise TypeError(f"{sorted(taken)} would overwrite the problem's own fields")
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(PatronError):
    code = "validation_error"
    title = "Invalid input"


class ValidationFailed(InvalidInput):
    """The input broke one or more field rules; ``errors`` names each path."""

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        summary = detail or "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
        super().__init__(summary)


class Unauthenticated(PatronError):
    code = "unauthenticated"
    title = "Missing or invalid API key"


class Forbidden(PatronError):
    code = "forbidden"
    title = "Not allowed for this key's role"


class NotFound(PatronError):
    code = "not_found"
    title = "Not found"


class ProgramNotFound(NotFound):
    code = "program_not_found"
    title = "Program not found"


class MemberNotFound(NotFound):
    code = "member_not_found"
    title = "Member not found"


class WalletNotConfigured(NotFound):
    code = "wallet_not_configured"
    title = "Wallet passes not configured"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = "API key not found"


class Conflict(PatronError):
    code = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    title = "Idempotency key reused with a different request"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    title = "A request with this idempotency key is still being processed"


class DuplicateSlug(Conflict):
    code = "program_slug_taken"
    title = "Program slug already taken"


class EntryNotFound(NotFound):
    code = "entry_not_found"
    title = "Ledger entry not found"


class PurchaseNotFound(NotFound):
    code = "purchase_not_found"
    title = "Purchase not found"


class IdentifierTaken(Conflict):
    code = "identifier_taken"
    title = "Identifier already belongs to another member"


class BusinessRuleViolation(PatronError):
    code = "business_rule_violation"
    title = "Business rule violated"


class BusinessKeyConflict(Conflict):
    code = "business_key_conflict"
    title = "Business key already used with different content"


class AlreadyCancelled(Conflict):
    code = "already_cancelled"
    title = "Already cancelled"


class InsufficientBalance(BusinessRuleViolation):
    code = "insufficient_balance"
    title = "Insufficient balance"


class MemberFrozen(BusinessRuleViolation):
    code = "member_frozen"
    title = "Member is frozen"


class MemberInactive(BusinessRuleViolation):
    code = "member_inactive"
    title = "Member is closed or erased"


class PersonErased(BusinessRuleViolation):
    code = "person_erased"
    title = "This person's data was erased"


class NotCancellable(BusinessRuleViolation):
    code = "not_cancellable"
    title = "This entry cannot be cancelled"


class AlreadyClaimed(Conflict):
    code = "purchase_already_claimed"
    title = "The purchase already belongs to another member"


class ClaimRefused(BusinessRuleViolation):
    code = "claim_refused"
    title = "The purchase cannot be claimed"


class RewardNotFound(NotFound):
    code = "reward_not_found"
    title = "Reward not found"


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"
    title = "Redemption not found"


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    title = "Voucher not found"


class RewardCodeTaken(Conflict):
    code = "reward_code_taken"
    title = "A reward with this code already exists"


class VoucherAlreadyUsed(Conflict):
    code = "voucher_already_used"
    title = "Voucher already used"


class RewardUnavailable(BusinessRuleViolation):
    code = "reward_unavailable"
    title = "Reward unavailable"


class VoucherExpired(BusinessRuleViolation):
    code = "voucher_expired"
    title = "Voucher expired"


class VoucherCancelled(BusinessRuleViolation):
    code = "voucher_cancelled"
    title = "Voucher cancelled"
