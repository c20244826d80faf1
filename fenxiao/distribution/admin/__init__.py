"""The merchant backend for distribution (分销): one module per area, registered on import.

Every page calls the distribution services; a refusal (DomainError) shows as a message or
a form error, never a 500.
"""

from . import (  # noqa: F401
    bindings,
    claims,
    commissions,
    config,
    distributors,
    reconciliation,
    risk,
    rules,
    withdrawals,
)
