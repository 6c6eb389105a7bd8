"""The figures of the insights page and of the QuickSight dashboard, and the lake's schema.

Each figure's SQL is one file in `infra/terraform/modules/analytics/figures/`, written in
the subset of SQL that Athena (Trino) and DuckDB share. Terraform reads the same files with
`templatefile()` for the QuickSight data sets, so the dashboard and this page run the same
queries; `${alerts}` names the alerts table (the Glue table there, a DuckDB view here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from contracts.alert import ALERT_V1
from contracts.fields import HIVE_TO_DUCKDB as HIVE_TO_DUCKDB  # re-exported: the lake's reader

ROOT = Path(__file__).resolve().parents[2]
FIGURES_DIR = ROOT / "infra" / "terraform" / "modules" / "analytics" / "figures"

# The Glue table's columns (infra/terraform/modules/analytics/main.tf, local.columns): Alert
# v1's fields in order, as Hive types: the fan-out's lake record, read with this schema and
# nothing else.
LAKE_COLUMNS: tuple[tuple[str, str], ...] = ALERT_V1.hive_columns()
# The table's partition keys, from the object keys (dt=YYYY-MM-DD/hour=HH/), as strings.
PARTITION_COLUMNS: tuple[str, ...] = ("dt", "hour")


Chart = Literal["line", "bar", "table"]


@dataclass(frozen=True)
class Figure:
    """One query and how to draw it: `label` along one axis, `value` along the other."""

    name: str
    title: str
    chart: Chart
    label: str
    value: str
    series: str | None = None

    @property
    def path(self) -> Path:
        return FIGURES_DIR / f"{self.name}.sql"

    def sql(self, alerts_table: str) -> str:
        """The figure's query over `alerts_table` (Terraform fills the same placeholder)."""
        return Template(self.path.read_text()).substitute(alerts=alerts_table)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "alerts_by_hour",
        "Alerts over time, by severity",
        "line",
        label="alert_hour",
        value="alert_count",
        series="severity",
    ),
    Figure("top_reason_codes", "Top reason codes", "bar", "reason_code", "alert_count"),
    Figure("top_terminals", "Terminals with most alerts", "bar", "terminal_id", "alert_count"),
    Figure(
        "top_merchant_categories",
        "Merchant categories with most alerts",
        "bar",
        "merchant_category",
        "alert_count",
    ),
    Figure("amount_bands", "Alerts by amount band", "bar", "amount_band", "alert_count"),
    Figure("model_versions", "Model versions in service", "table", "model_version", "alert_count"),
)


def figure(name: str) -> Figure:
    return next(f for f in FIGURES if f.name == name)
