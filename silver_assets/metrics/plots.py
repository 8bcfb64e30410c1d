"""Small history plots for time-series assets, embedded in Dagster metadata as Markdown."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display on servers and in tests
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow as pa  # noqa: E402


def history_plot(history: pa.Table | None, column: str) -> str:
    """A PNG line chart of ``column`` per symbol over ``snapshot_date``, as a Markdown image."""
    if history is None or history.num_rows == 0 or column not in history.column_names:
        return "No history yet."
    frame = history.select(["snapshot_date", "symbol", column]).to_pandas()
    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=80)
    for symbol, rows in frame.groupby("symbol"):
        ax.plot(rows["snapshot_date"], rows[column], label=symbol, linewidth=1.2)
    ax.set_title(f"{column} by day")
    ax.legend(fontsize=7, ncol=5)
    ax.tick_params(labelsize=7)
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f"![{column} history](data:image/png;base64,{encoded})"
