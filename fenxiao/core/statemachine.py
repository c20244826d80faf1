"""State machines declared as data: one table of allowed transitions per status field."""

from collections.abc import Mapping

from django.db import models
from django.utils.translation import gettext as _

from .errors import InvalidTransition


class StateMachine:
    def __init__(self, choices: type[models.TextChoices], transitions: Mapping[str, set[str]]):
        self.choices = choices
        self.transitions = {str(k): {str(v) for v in vs} for k, vs in transitions.items()}
        unknown = (set(self.transitions) | set().union(*self.transitions.values())) - set(choices.values)
        if unknown:
            raise ValueError(f"unknown states in transition table: {unknown}")

    def can(self, current: str, target: str) -> bool:
        return str(target) in self.transitions.get(str(current), set())

    def sources(self, target: str) -> list[str]:
        """States from which `target` may be reached: the WHERE clause of a conditional update."""
        return [s for s, targets in self.transitions.items() if str(target) in targets]

    def check(self, current: str, target: str, message: str | None = None) -> None:
        if not self.can(current, target):
            label = dict(self.choices.choices)
            raise InvalidTransition(
                message
                or _("当前状态“%(current)s”不能变为“%(target)s”")
                % {"current": label.get(current, current), "target": label.get(target, target)},
                current=str(current),
                target=str(target),
            )

    def move(self, obj, target: str, *, stale: str | None = None, **fields) -> None:
        """Move `obj.status` to `target` if, and only if, it is still what we read.

        The conditional UPDATE makes racing requests safe: the loser changes nothing and gets
        a clear error instead of overwriting the winner.
        """
        self.check(obj.status, target)
        moved = type(obj).objects.filter(pk=obj.pk, status=obj.status).update(status=target, **fields)
        if not moved:
            raise InvalidTransition(stale or _("状态已变化，请刷新后重试"))
        obj.status = target
        for name, value in fields.items():
            setattr(obj, name, value)
