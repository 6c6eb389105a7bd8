"""The feature layout: every window, threshold and output field of the card and terminal
aggregates, in one place that the streaming job, the training path, the Java aggregates, the
tests' oracle and the analyst API's baselines all read (docs/features.md, "Changing a
feature").

The Java aggregates (io.fraudstream.features.card.CardFeatures,
terminal.TerminalFeatures) hold no window of their own: the job builds them with
`FeatureLayout.card_spec()` / `terminal_spec()`, one field per output column, each naming
the statistic the Java computes for it and its window. Their ROW types come from the same
fields, so the two engines cannot disagree by position.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


@dataclass(frozen=True)
class Window:
    name: str  # suffix of the feature names, e.g. "1h"
    millis: int


W10M, W1H, W1D, W7D, W30D = (
    Window("10m", 10 * MINUTE),
    Window("1h", HOUR),
    Window("1d", DAY),
    Window("7d", 7 * DAY),
    Window("30d", 30 * DAY),
)


@dataclass(frozen=True)
class OutputField:
    """One field of an aggregate's ROW: its name and SQL type, the statistic the Java
    aggregate computes for it, and the window it reads (0 for none)."""

    name: str
    sql_type: str
    stat: str
    window_ms: int = 0

    def spec(self) -> str:
        return f"{self.name}:{self.sql_type}:{self.stat}:{self.window_ms}"


# The statistics each Java aggregate knows (io.fraudstream.features.card.CardFeatures.Stat,
# terminal.TerminalFeatures.Stat): a layout may combine them with any windows.
CARD_STATS = frozenset(
    {"n", "sum", "max", "sumsq", "small_n", "terminals", "repeat_terminals"}
    | {"prev_n", "prev_et", "prev_lat", "prev_lon"}
)
TERMINAL_STATS = frozenset({"n", "cards", "fraud", "risk_n"})


@dataclass(frozen=True)
class FeatureLayout:
    """Windows and thresholds of both aggregates. The features themselves (flink_job.features)
    are expressions over the output fields these give."""

    card_windows: tuple[Window, ...] = (W10M, W1H, W1D, W7D, W30D)
    # the card's amount profile (average, z-score) and "used this terminal before"
    card_profile_window: Window = W30D
    card_small_window: Window = W10M  # card testing: payments below small_amount
    small_amount: float = 5.0
    card_distinct_terminals_window: Window = W1D
    terminal_count_windows: tuple[Window, ...] = (W1D, W7D, W30D)  # counts and fraud risk
    terminal_recent_window: Window = W1H  # transactions and distinct cards, recently

    def __post_init__(self) -> None:
        names = [w.name for w in self.card_windows]
        if len(set(names)) != len(names) or self.card_profile_window not in self.card_windows:
            raise ValueError("card windows must have distinct names and hold the profile window")
        if len({w.name for w in self.terminal_count_windows}) != len(self.terminal_count_windows):
            raise ValueError("terminal windows must have distinct names")

    def card_fields(self) -> tuple[OutputField, ...]:
        fields = [
            OutputField(f"{stat}_{w.name}", sql_type, stat, w.millis)
            for w in self.card_windows
            for stat, sql_type in (("n", "BIGINT"), ("sum", "DOUBLE"), ("max", "DOUBLE"))
        ]
        small, profile = self.card_small_window, self.card_profile_window
        distinct = self.card_distinct_terminals_window
        fields += [
            OutputField(f"small_n_{small.name}", "BIGINT", "small_n", small.millis),
            OutputField(f"sumsq_{profile.name}", "DOUBLE", "sumsq", profile.millis),
            OutputField(f"terminals_{distinct.name}", "BIGINT", "terminals", distinct.millis),
            OutputField(
                f"repeat_terminals_{profile.name}",
                "ARRAY<BIGINT>",
                "repeat_terminals",
                profile.millis,
            ),
            OutputField("prev_n", "INT", "prev_n"),
            OutputField("prev_et", "TIMESTAMP(3)", "prev_et"),
            OutputField("prev_lat", "DOUBLE", "prev_lat"),
            OutputField("prev_lon", "DOUBLE", "prev_lon"),
        ]
        return tuple(fields)

    def terminal_fields(self) -> tuple[OutputField, ...]:
        recent = self.terminal_recent_window
        fields = [
            OutputField(f"n_{recent.name}", "BIGINT", "n", recent.millis),
            OutputField(f"cards_{recent.name}", "BIGINT", "cards", recent.millis),
        ]
        fields += [
            OutputField(f"{stat}_{w.name}", "BIGINT", stat, w.millis)
            for w in self.terminal_count_windows
            for stat in ("n", "fraud", "risk_n")
        ]
        return tuple(fields)

    def card_spec(self) -> str:
        """The card aggregate's constructor argument (CardLayout's format)."""
        return _spec(self.card_fields(), {"small_amount": repr(self.small_amount)})

    def terminal_spec(self) -> str:
        """The terminal aggregate's constructor argument (TerminalLayout's format)."""
        return _spec(self.terminal_fields(), {})

    def longest_ms(self) -> int:
        """The widest window either aggregate reads."""
        windows = (*self.card_windows, *self.terminal_count_windows, self.terminal_recent_window)
        return max(w.millis for w in windows)


def row_type(fields: tuple[OutputField, ...]) -> str:
    return "ROW<" + ", ".join(f"`{f.name}` {f.sql_type}" for f in fields) + ">"


def _spec(fields: tuple[OutputField, ...], settings: dict[str, str]) -> str:
    """`key=value;...|field;field;...`: settings, then one `name:type:stat:window_ms` a field."""
    head = ";".join(f"{k}={v}" for k, v in settings.items())
    return head + "|" + ";".join(f.spec() for f in fields)


DEFAULT_LAYOUT = FeatureLayout()

#: The names of the features the job computes over DEFAULT_LAYOUT, in order
#: (flink_job.features.FEATURE_NAMES builds them), for readers that may not import the job:
#: the API's rule checks and backtests. tests/test_feature_layout.py holds the two equal.
FEATURE_NAMES: tuple[str, ...] = (
    "amount",
    "card_txn_count_10m",
    "card_sum_amount_10m",
    "card_avg_amount_10m",
    "card_max_amount_10m",
    "card_txn_count_1h",
    "card_sum_amount_1h",
    "card_avg_amount_1h",
    "card_max_amount_1h",
    "card_txn_count_1d",
    "card_sum_amount_1d",
    "card_avg_amount_1d",
    "card_max_amount_1d",
    "card_txn_count_7d",
    "card_sum_amount_7d",
    "card_avg_amount_7d",
    "card_max_amount_7d",
    "card_txn_count_30d",
    "card_sum_amount_30d",
    "card_avg_amount_30d",
    "card_max_amount_30d",
    "card_distinct_terminals_1d",
    "card_secs_since_prev",
    "amount_over_card_avg_30d",
    "card_amount_zscore_30d",
    "card_terminal_seen_30d",
    "is_night",
    "is_weekend",
    "card_km_from_prev",
    "card_kmh_from_prev",
    "card_small_txn_count_10m",
    "terminal_txn_count_1d",
    "terminal_txn_count_7d",
    "terminal_txn_count_30d",
    "terminal_fraud_risk_1d",
    "terminal_fraud_risk_7d",
    "terminal_fraud_risk_30d",
    "terminal_distinct_cards_1h",
)
