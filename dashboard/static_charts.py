"""The report's charts drawn with matplotlib, for the PDF and the HTML export: both open offline,
and neither carries Plotly's 4.6 MB script (the HTML export did)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from core.labels import EMOTIONS  # noqa: E402
from dashboard.charts import COLORS  # noqa: E402

SMALL_SLICE = 0.02  # pie slices under 2 % go unlabelled (their labels would overlap)


def class_mood(ax, timeline, zone: str) -> None:
    """The class's expression shares over time (stacked) and valence (a line), its legend below
    the plot so that it covers nothing."""
    if not timeline.empty:
        ax.stackplot(
            timeline["time"],
            *[timeline[n].fillna(0) for n in EMOTIONS],
            labels=EMOTIONS,
            colors=[COLORS[n] for n in EMOTIONS],
        )
        valence = ax.twinx()
        valence.plot(timeline["time"], timeline["valence"], color="black", linewidth=1, label="valence")
        valence.set_ylim(-1, 1)
        valence.set_ylabel("valence")
        handles, labels = ax.get_legend_handles_labels()
        line, name = valence.get_legend_handles_labels()
        ax.legend(handles + line, labels + name, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=8, fontsize=8)
        import matplotlib.dates as mdates

        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=timeline["time"].dt.tz))
    else:
        ax.text(0.5, 0.5, "No faces were read in this session", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of faces")
    ax.set_xlabel(f"time ({zone})")
    ax.set_title("Class mood", fontsize=11)


def distribution(ax, shares: dict[str, float]) -> None:
    values = [shares[n] for n in EMOTIONS]
    total = sum(values)
    if total > 0:
        ax.pie(
            values,
            labels=[n if v / total >= SMALL_SLICE else "" for n, v in zip(EMOTIONS, values)],
            colors=[COLORS[n] for n in EMOTIONS],
            autopct=lambda p: f"{p:.0f} %" if p >= 100 * SMALL_SLICE else "",
            pctdistance=0.78,
            wedgeprops={"width": 0.45},
            textprops={"fontsize": 8},
        )
    else:
        ax.text(0.5, 0.5, "no faces read", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Emotion distribution", fontsize=11)


def svg(fig) -> str:
    """A figure as inline SVG (closed afterwards)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def figures(report) -> tuple[str, str]:
    """The class mood and distribution charts of a report, as SVG."""
    from dashboard import clock

    mood, ax = plt.subplots(figsize=(10, 4.2))
    with matplotlib.rc_context({"text.parse_math": False}):
        class_mood(ax, report.timeline, clock.zone_text(report.info.started_at))
        pie, ax = plt.subplots(figsize=(4.5, 4.5))
        distribution(ax, report.distribution)
        return svg(mood), svg(pie)
