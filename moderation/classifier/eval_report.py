"""Formatting of ``moderation evaluate`` results: the console table and the model card section.

Pure functions over the ``evaluation`` dict stored in ``metrics.json`` so the card can be
regenerated from the file alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluation_section", "format_table"]


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if abs(value) >= 100:
            text = f"{value:,.0f}"
        elif abs(value) >= 10:
            text = f"{value:.1f}"
        else:
            text = f"{value:.3f}"
    else:
        text = str(value)
    return text + unit


def _rows(evaluation: dict[str, Any]) -> list[list[str]]:
    rows = []
    for m in evaluation["measures"]:
        target = f"{m['op']} {_fmt(m['target'])}"
        status = "pass" if m["passed"] else "FAIL"
        rows.append(
            [m["label"], _fmt(m["value"], m.get("unit", "")), target, _fmt(m.get("baseline")),
             status]
        )
    return rows


HEADER = ["measure", "value", "target", "baseline", "status"]


def format_table(evaluation: dict[str, Any]) -> str:
    """Fixed-width table for the terminal."""
    rows = [HEADER, *_rows(evaluation)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    passed = sum(m["passed"] for m in evaluation["measures"])
    lines.append("")
    lines.append(
        f"{passed}/{len(evaluation['measures'])} targets met · mode {evaluation['mode']} · "
        f"{evaluation['seconds']:.0f} s"
    )
    return "\n".join(lines)


def evaluation_section(metrics: dict[str, Any]) -> list[str]:
    """Markdown lines for the card's Metrics section."""
    evaluation = metrics.get("evaluation")
    if not evaluation:
        return [
            "Not evaluated yet: run `moderation evaluate` to measure this version (it retrains",
            "the same pipeline per fold for the cross-validated figures and rewrites this card).",
        ]
    lines = [
        f"Measured by `{evaluation['command']}` ({evaluation['mode']} mode, "
        f"{evaluation['seconds']:.0f} s on this 2-core machine, {evaluation['date']}). "
        "Every figure is on rows the evaluated model was never trained on: cross-validated",
        "figures retrain the whole pipeline (vectoriser, models, calibration, same",
        "hyper-parameters) once per fold with that fold's rows of *every* cross-validated set",
        "removed from training; the other figures use the shipped model, whose training data",
        "exclude every text of the evaluation-only files.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(r) + " |" for r in _rows(evaluation)),
        "",
        "How each figure is computed:",
        "",
        *(f"- {note}" for note in evaluation["notes"]),
    ]
    return lines
