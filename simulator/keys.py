"""The API keys the simulator plays with, read from ``deploy/dev-keys.json``'s format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEV_KEYS = Path(__file__).parent.parent / "deploy" / "dev-keys.json"


@dataclass(frozen=True)
class Keys:
    """The API keys the simulator plays with: one per role, one per unit it can act for."""

    intake: str = "dev-intake"
    supervisor: str = "dev-supervisor"
    verifiers: Mapping[str, str] = field(default_factory=dict)  # grid → its verifier's key
    units: Mapping[str, str] = field(default_factory=dict)  # unit code → key

    def verifier_for(self, grid: str) -> str:
        """The grid's own verifier; the center verifies where a grid has none (verifiers act only in
        their own grid)."""
        return self.verifiers.get(grid, self.supervisor)

    @classmethod
    def dev(cls, path: Path | str = DEV_KEYS) -> Keys:
        """From a key file in ``deploy/dev-keys.json``'s format: one key per role (dev-intake,
        dev-supervisor when present), every verifier key by its grid and every unit_staff key."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))

        def pick(role: str, preferred: str) -> str:
            names = [key for key, spec in raw.items() if spec.get("role") == role and not spec.get("channel")]
            return preferred if preferred in names or not names else names[0]

        units = {
            spec["unit"]: key for key, spec in raw.items() if spec.get("role") == "unit_staff" and spec.get("unit")
        }
        verifiers = {
            spec["unit"]: key for key, spec in raw.items() if spec.get("role") == "verifier" and spec.get("unit")
        }
        return cls(pick("intake", "dev-intake"), pick("supervisor", "dev-supervisor"), verifiers, units)

    def mapped(self, names: Mapping[str, str]) -> Keys:
        """The same keys under other names, e.g. ``{"dev-intake": "k-intake", "dev-unit-D-JJ": "k-D-JJ"}``."""

        def renamed(key: str) -> str:
            return names.get(key, key)

        return Keys(
            renamed(self.intake),
            renamed(self.supervisor),
            {grid: renamed(key) for grid, key in self.verifiers.items()},
            {unit: renamed(key) for unit, key in self.units.items()},
        )
