"""The one table `make bench` prints: each figure beside its raw baseline from the same run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure. `baseline` is the raw figure measured in the same run (None
    where the figure has no baseline, e.g. a lag or a connection count); `higher_is_better`
    says which way the ratio reads; `target` is the issue's goal, as text."""

    figure: str
    concord: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0 or self.concord == 0:
            return None
        if self.higher_is_better:
            return self.concord / self.baseline
        return self.baseline / self.concord


def render(rows: list[Row]) -> str:
    """A Markdown table (it is pasted as is into docs/performance.md)."""
    lines = [
        "| figure | Concord | raw baseline | ratio | target |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        base = "" if row.baseline is None else f"{_num(row.baseline)} {row.unit}"
        if row.baseline_label:
            base += f" ({row.baseline_label})"
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}×"  # noqa: RUF001
        figure = row.figure + (f" — {row.note}" if row.note else "")
        lines.append(
            f"| {figure} | {_num(row.concord)} {row.unit} | {base} | {ratio} | {row.target} |"
        )
    return "\n".join(lines)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
