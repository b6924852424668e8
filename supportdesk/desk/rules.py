"""Keyword rules from config.toml: words in the subject (or sender, body) set tags and more."""

from __future__ import annotations

from dataclasses import dataclass, field

from supportdesk.config import Rule


@dataclass(slots=True)
class RuleOutcome:
    tags: list[str] = field(default_factory=list)
    priority: str | None = None
    language: str | None = None
    assignee: str | None = None
    line: int | None = None


def _contains_any(haystack: str, needles: list[str]) -> bool:
    return any(n.casefold() in haystack for n in needles)


def apply_rules(rules: list[Rule], subject: str, sender: str, body: str) -> RuleOutcome:
    """Every rule whose conditions all hold contributes; later rules win on single values."""
    outcome = RuleOutcome()
    subject_cf, sender_cf = subject.casefold(), sender.casefold()
    body_cf: str | None = None
    for rule in rules:
        if not (rule.subject_any or rule.from_any or rule.body_any):
            continue
        if rule.subject_any and not _contains_any(subject_cf, rule.subject_any):
            continue
        if rule.from_any and not _contains_any(sender_cf, rule.from_any):
            continue
        if rule.body_any:
            if body_cf is None:
                body_cf = body[:20000].casefold()
            if not _contains_any(body_cf, rule.body_any):
                continue
        for tag in rule.tags:
            if tag not in outcome.tags:
                outcome.tags.append(tag)
        outcome.priority = rule.priority or outcome.priority
        outcome.language = rule.language or outcome.language
        outcome.assignee = rule.assignee or outcome.assignee
        outcome.line = rule.line or outcome.line
    return outcome
