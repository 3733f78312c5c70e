"""The figures of a stretch of time, mergeable day by day.

Counts and sums add up; percentiles do not, so the durations behind them are kept (whole
seconds) and merged. Percentiles are nearest-rank: P95 of n values is the ⌈0.95·n⌉-th smallest.
"""

from __future__ import annotations

import json
import sys
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_TYPECODE = "i"  # 32-bit signed: durations up to 68 years


def percentile(sorted_values: list[int], p: int) -> int | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, (p * n + 99) // 100)
    return sorted_values[rank - 1]


def mean(total: float, n: int) -> float | None:
    return total / n if n else None


@dataclass
class Agg:
    """Figures of one scope over some time; `merge` adds another day's."""

    counts: Counter[str] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)
    backward: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    carriers: Counter[str] = field(default_factory=Counter)
    # "actor_id|transition" → [count, seconds]
    steps: dict[str, list[int]] = field(default_factory=dict)
    samples: dict[str, list[int]] = field(default_factory=dict)

    # --- building ---------------------------------------------------------------------------

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def sample(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(max(0, int(seconds)))

    def step(self, actor_id: int, transition: str, seconds: float) -> None:
        slot = self.steps.setdefault(f"{actor_id}|{transition}", [0, 0])
        slot[0] += 1
        slot[1] += max(0, int(seconds))

    def merge(self, other: Agg) -> None:
        self.counts.update(other.counts)
        self.exits.update(other.exits)
        self.backward.update(other.backward)
        self.reasons.update(other.reasons)
        self.carriers.update(other.carriers)
        for key, (n, total) in other.steps.items():
            slot = self.steps.setdefault(key, [0, 0])
            slot[0] += n
            slot[1] += total
        for name, values in other.samples.items():
            self.samples.setdefault(name, []).extend(values)

    def finish(self) -> Agg:
        """Sort every sample list (once, before reading percentiles)."""
        for values in self.samples.values():
            values.sort()
        return self

    # --- reading ----------------------------------------------------------------------------

    def values(self, name: str) -> list[int]:
        return self.samples.get(name, [])

    def p(self, name: str, pct: int) -> int | None:
        return percentile(self.values(name), pct)

    def avg(self, name: str) -> float | None:
        values = self.values(name)
        return sum(values) / len(values) if values else None

    # --- storage ----------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "exits": dict(self.exits),
            "backward": dict(self.backward),
            "reasons": dict(self.reasons),
            "carriers": dict(self.carriers),
            "steps": self.steps,
        }

    def to_samples(self) -> bytes:
        return samples_pack(self.samples)

    @classmethod
    def load(cls, data: dict[str, Any], packed: bytes | memoryview | None) -> Agg:
        return cls(
            counts=Counter(data.get("counts", {})),
            exits=Counter(data.get("exits", {})),
            backward=Counter(data.get("backward", {})),
            reasons=Counter(data.get("reasons", {})),
            carriers=Counter(data.get("carriers", {})),
            steps={k: list(v) for k, v in data.get("steps", {}).items()},
            samples=samples_unpack(bytes(packed or b"")),
        )


def merged(aggs: Iterable[Agg]) -> Agg:
    total = Agg()
    for agg in aggs:
        total.merge(agg)
    return total.finish()


# --- packing: a JSON header line of (name, count) pairs, then little-endian int32 arrays --------


def samples_pack(samples: dict[str, list[int]]) -> bytes:
    names = sorted(k for k, v in samples.items() if v)
    header = json.dumps([[n, len(samples[n])] for n in names], separators=(",", ":")).encode()
    body = array(_TYPECODE)
    for n in names:
        body.extend(sorted(samples[n]))
    if sys.byteorder == "big":
        body.byteswap()
    return header + b"\n" + body.tobytes()


def samples_unpack(packed: bytes) -> dict[str, list[int]]:
    if not packed:
        return {}
    header, _sep, body = packed.partition(b"\n")
    values = array(_TYPECODE)
    values.frombytes(body)
    if sys.byteorder == "big":
        values.byteswap()
    out: dict[str, list[int]] = {}
    offset = 0
    for name, count in json.loads(header):
        out[name] = values[offset : offset + count].tolist()
        offset += count
    return out
