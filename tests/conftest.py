"""Suite-wide fixtures. Area fixtures live in tests/fixtures/ and are loaded as plugins."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures.broker", "tests.fixtures.artifacts", "tests.fixtures.display", "tests.fixtures.postgres", "tests.fixtures.browser"]
