"""The /report chart: one PNG (matplotlib, the Agg backend: no display needed) with four
panels — views per piece over time, engagement per piece over time, average views by format
and by local hour of publication."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from assistant.config import Settings
from assistant.tools.publishing.analytics import ENGAGEMENT, VIEWS, local_hour, views
from storage.analytics import Piece

MAX_LINES = 8  # pieces drawn over time; the most viewed ones, so the legend stays readable


def render_chart(pieces: Sequence[Piece], settings: Settings, target: Path,
                 title: str = "Performance") -> Path:
    """Draw the report for ``pieces`` into ``target`` (written atomically); returns it."""
    import matplotlib

    matplotlib.use("Agg", force=True)  # a server has no display; never pick a GUI backend
    from matplotlib import pyplot as plt
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    measured = [p for p in pieces if views(p) is not None]
    top = sorted(measured, key=lambda p: -(views(p) or 0.0))[:MAX_LINES]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), dpi=100)
    try:
        fig.suptitle(title, fontsize=14)
        over_time, engaged, by_format, by_hour = axes.flat
        for piece in top:
            name = f"{piece.title[:28]} ({piece.platform})"
            points = piece.series.get(VIEWS, [])
            over_time.plot([t for t, _ in points], [v for _, v in points], marker="o",
                           markersize=3, label=name)
            eng = _engagement_series(piece)
            engaged.plot([t for t, _ in eng], [v for _, v in eng], marker="o", markersize=3,
                         label=name)
        for ax, what in ((over_time, "views"), (engaged, "likes + comments + shares")):
            ax.set_title(f"{what} per piece over time", fontsize=10)
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.grid(alpha=0.3)
        if top:
            over_time.legend(fontsize=7, loc="upper left")
        else:
            over_time.text(0.5, 0.5, "no metrics yet", ha="center", va="center",
                           transform=over_time.transAxes)
        _bars(by_format, _mean_by(measured, lambda p: p.format), "average views by format")
        hours = _mean_by(measured, lambda p: f"{local_hour(p, settings):02d}:00")
        _bars(by_hour, dict(sorted(hours.items())),
              f"average views by hour published ({settings.timezone})")
        fig.tight_layout()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".png")
        os.close(fd)
        try:
            fig.savefig(tmp, format="png")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        plt.close(fig)
    return target


def _engagement_series(piece: Piece) -> list[tuple[datetime, float]]:
    """likes + comments + shares at each time any of them was recorded."""
    times = sorted({t for name in ENGAGEMENT for t, _ in piece.series.get(name, [])})
    out = []
    for at in times:
        total = 0.0
        for name in ENGAGEMENT:
            known = [v for t, v in piece.series.get(name, []) if t <= at]
            total += known[-1] if known else 0.0
        out.append((at, total))
    return out


def _mean_by(pieces: Sequence[Piece], key: object) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for p in pieces:
        groups.setdefault(key(p), []).append(views(p) or 0.0)  # type: ignore[operator]
    return {k: statistics.fmean(v) for k, v in groups.items()}


def _bars(ax: object, values: dict[str, float], title: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.set_title(title, fontsize=10)
    if not values:
        ax.text(0.5, 0.5, "no metrics yet", ha="center", va="center", transform=ax.transAxes)
        return
    bars = ax.bar(list(values), list(values.values()), color="#4C72B0")
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values.values()], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)
