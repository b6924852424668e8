"""Every duration and size in config.toml has a sane range: a zero poll interval or lease made
`fetch --watch` spin a core, a negative timeout or batch size broke fetching. A value out of
range is one line naming the file, the key and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.config import load_settings
from supportdesk.errors import ConfigError
from tests.fixtures import run_cli, write_config

BAD_VALUES = [
    # (section, key, bad value, what the message says is expected)
    ("mailbox", "poll_interval", "0s", "at least 1s"),
    ("mailbox", "poll_interval", "2w", "at most 1d"),
    ("mailbox", "timeout", -5, "at least 1s"),
    ("mailbox", "timeout", "0s", "at least 1s"),
    ("mailbox", "lease", "0s", "at least 1s"),
    ("mailbox", "lease", "1d", "at most 1h"),
    ("mailbox", "batch_bytes", -1, "at least 10000"),
    ("mailbox", "batch_bytes", 0, "at least 10000"),
    ("mailbox", "port", 0, "at least 1"),
    ("mailbox", "port", 70000, "at most 65535"),
    ("outgoing", "timeout", -5, "at least 1s"),
    ("outgoing", "port", -25, "at least 1"),
    ("outgoing", "max_attempts", 0, "at least 1"),
    ("outgoing", "max_attempts", 10_000, "at most 100"),
    ("workflow", "follow_up_after", "0s", "at least 1m"),
    ("workflow", "max_reminders", -1, "at least 0"),
    ("workflow", "claim_ttl", "0s", "at least 30s"),
    ("workflow", "claim_ttl", "520w", "at most 1d"),
    ("workflow", "ack_interval", -1, "at least 1s"),
    ("sla", "first_response", "0s", "at least 1m"),
    ("sla", "first_response", "5200w", "at most 365d"),
    ("sla", "warn_before", -60, "at least 0s"),
]
IDS = [f"{section}.{key}={value}" for section, key, value, _ in BAD_VALUES]
ONE_PER_KEY = list({(s, k): (s, k, v, e) for s, k, v, e in reversed(BAD_VALUES)}.values())


def _shown(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


@pytest.mark.parametrize(("section", "key", "value", "expected"), BAD_VALUES, ids=IDS)
def test_load_settings_refuses_a_value_out_of_range(
    tmp_path: Path, section: str, key: str, value: object, expected: str
) -> None:
    path = write_config(tmp_path, {section: {key: value}})
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        f"{path}: {section}.{key} must be {expected} (got {_shown(value)})"
    )


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    ONE_PER_KEY,
    ids=[f"{s}.{k}" for s, k, *_ in ONE_PER_KEY],
)
def test_the_cli_says_which_key_is_out_of_range(
    tmp_path: Path, section: str, key: str, value: object, expected: str
) -> None:
    write_config(tmp_path, {section: {key: value}})
    result = run_cli("fetch", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("supportdesk: ") and "config.toml" in line
    assert f"{section}.{key} must be {expected}" in line, line


def test_values_inside_the_ranges_are_taken(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "mailbox": {"poll_interval": "1s", "lease": "3s", "timeout": 1, "batch_bytes": 60_000},
            "outgoing": {"timeout": "1h", "max_attempts": 1},
            "workflow": {"max_reminders": 0, "claim_ttl": "2m", "ack_interval": "1s"},
            "sla": {"warn_before": "0s", "first_response": "4w"},
        },
    )
    settings = load_settings(path)
    assert settings.mailbox.poll_interval.total_seconds() == 1
    assert settings.mailbox.timeout.total_seconds() == 1
    assert settings.sla.warn_before.total_seconds() == 0
