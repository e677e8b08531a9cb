"""The decision (SPEC section 6): findings and the severity policy give accepted / returned /
rejected. Pure; the mapping and per-code severities come from ``config.toml``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.config import Config
from gateway.render.labels import DECISION_RU
from gateway.store.status import Decision
from validators.checks import CATALOGUE, Check, Severity

__all__ = ["Decision", "DecisionPolicy", "decide", "DECISION_NAMES_RU"]


DECISION_NAMES_RU: dict[Decision, str] = {decision: DECISION_RU[decision.value] for decision in Decision}

_ORDER = {Decision.ACCEPTED: 0, Decision.RETURNED: 1, Decision.REJECTED: 2}


@dataclass(frozen=True)
class DecisionPolicy:
    """Which severity leads to which decision, and per-code severity overrides."""

    by_severity: Mapping[Severity, Decision] = field(
        default_factory=lambda: {
            Severity.FATAL: Decision.REJECTED,
            Severity.FIXABLE: Decision.RETURNED,
            Severity.WARNING: Decision.ACCEPTED,
            Severity.INFO: Decision.ACCEPTED,
        }
    )
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.severity_overrides) - set(CATALOGUE))
        if unknown:
            raise ValueError(f"severity overrides for unknown check codes: {', '.join(unknown)}")
        missing = set(Severity) - set(self.by_severity)
        if missing:
            raise ValueError(f"decision mapping lacks severities: {', '.join(sorted(missing))}")


def decide(checks: Iterable[Check], policy: DecisionPolicy = DecisionPolicy()) -> tuple[Decision, tuple[Check, ...]]:
    """The decision and the checks with the policy's severities applied."""
    applied = tuple(
        dataclasses.replace(c, severity=policy.severity_overrides[c.code]) if c.code in policy.severity_overrides else c
        for c in checks
    )
    decision = max(
        (policy.by_severity[c.severity] for c in applied),
        key=_ORDER.__getitem__,
        default=Decision.ACCEPTED,
    )
    return decision, applied


def policy_of(config: Config) -> DecisionPolicy:
    """The decision policy of ``config`` (parsed and checked at start by ``load_config``)."""
    return DecisionPolicy(by_severity=config.decision.by_severity(), severity_overrides=config.decision.severity)
