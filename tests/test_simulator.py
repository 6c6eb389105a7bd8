"""Behaviour of the transaction simulator in sample_data/."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from sample_data import labels as labels_cli
from sample_data import simulate as simulate_cli
from sample_data.config import FRAUD_SCENARIOS, SCENARIOS, SimulationConfig
from sample_data.formats import read_frame, to_jsonl, write_frame
from sample_data.geography import haversine_km
from sample_data.labels import LABEL_COLUMNS, derive_labels
from sample_data.records import TRANSACTION_COLUMNS
from sample_data.simulate import simulate

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "sample_data"
SAMPLE_TRANSACTIONS = SAMPLE_DIR / "sample_transactions.jsonl"
SAMPLE_LABELS = SAMPLE_DIR / "sample_labels.jsonl"
RFC3339_UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PAN_LIKE = re.compile(r"^\d{13,19}$")
MS_PER_DAY = 86_400_000

#: Small but fraud-rich: every scenario shows up in well under a second.
SMALL = SimulationConfig(
    customers=200,
    terminals=200,
    days=21,
    seed=11,
    compromised_terminal_rate=0.002,
    compromised_card_rate=0.004,
    card_testing_rate=0.003,
    impossible_travel_rate=0.01,
)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return read_frame(SAMPLE_TRANSACTIONS)


def epoch_ms(event_time: pd.Series) -> npt.NDArray[np.int64]:
    parsed = pd.to_datetime(event_time, utc=True, format="ISO8601")
    return np.asarray(
        (parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1), dtype=np.int64
    )


def by_card_in_time_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by card, in stream order within a card, with the previous row's fields."""
    rows = frame.assign(time_ms=epoch_ms(frame["event_time"]))
    rows = rows.sort_values(["card_id", "time_ms", "transaction_id"], kind="stable")
    previous = rows.groupby("card_id")[["time_ms", "lat", "lon", "scenario"]].shift(1)
    return rows.assign(
        prev_time_ms=previous["time_ms"],
        prev_lat=previous["lat"],
        prev_lon=previous["lon"],
        prev_scenario=previous["scenario"],
    ).dropna(subset=["prev_time_ms"])


def with_travel(pairs: pd.DataFrame) -> pd.DataFrame:
    km = haversine_km(pairs["prev_lat"], pairs["prev_lon"], pairs["lat"], pairs["lon"])
    hours = (pairs["time_ms"] - pairs["prev_time_ms"]).to_numpy(dtype=float) / 3_600_000
    with np.errstate(divide="ignore"):
        speed = np.where(hours > 0, km / np.maximum(hours, 1e-12), np.inf)
    return pairs.assign(km=km, kmh=speed)


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_output(tmp_path: Path) -> None:
    assert to_jsonl(simulate(SMALL)) == to_jsonl(simulate(SMALL))
    args = ["--customers", "80", "--terminals", "60", "--days", "5", "--seed", "3"]
    for name in ("a.jsonl", "b.jsonl"):
        assert simulate_cli.main(["--out", str(tmp_path / name), *args]) == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_different_seeds_give_different_output() -> None:
    other = SimulationConfig(**{**SMALL.__dict__, "seed": SMALL.seed + 1})
    assert to_jsonl(simulate(SMALL)) != to_jsonl(simulate(other))


def test_committed_sample_is_reproducible_from_its_command(tmp_path: Path) -> None:
    simulate_argv, labels_argv = documented_sample_commands()
    transactions = tmp_path / "transactions.jsonl"
    labels = tmp_path / "labels.jsonl"
    assert simulate_cli.main(replace_option(simulate_argv, "--out", str(transactions))) == 0
    labels_argv = replace_option(labels_argv, "--transactions", str(transactions))
    assert labels_cli.main(replace_option(labels_argv, "--out", str(labels))) == 0
    assert transactions.read_bytes() == SAMPLE_TRANSACTIONS.read_bytes()
    assert labels.read_bytes() == SAMPLE_LABELS.read_bytes()


def documented_sample_commands() -> tuple[list[str], list[str]]:
    """The two commands in sample_data/README.md that generated the committed files."""
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    commands = [shlex.split(line) for line in text.splitlines() if "sample_data/sample_" in line]
    simulate_argv = [c for c in commands if c[:3] == ["python", "-m", "sample_data.simulate"]]
    labels_argv = [c for c in commands if c[:3] == ["python", "-m", "sample_data.labels"]]
    assert len(simulate_argv) == 1 and len(labels_argv) == 1, "README must hold both commands"
    assert option(simulate_argv[0], "--out") == "sample_data/sample_transactions.jsonl"
    assert option(labels_argv[0], "--transactions") == "sample_data/sample_transactions.jsonl"
    assert option(labels_argv[0], "--out") == "sample_data/sample_labels.jsonl"
    return simulate_argv[0][3:], labels_argv[0][3:]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def replace_option(argv: list[str], name: str, value: str) -> list[str]:
    replaced = list(argv)
    replaced[replaced.index(name) + 1] = value
    return replaced


# --- the committed sample -------------------------------------------------------------------


def test_committed_sample_is_small_covers_a_month_and_has_a_few_percent_fraud(
    sample: pd.DataFrame,
) -> None:
    assert 3_000 <= len(sample) <= 6_000
    times = pd.to_datetime(sample["event_time"], utc=True, format="ISO8601")
    assert 30 <= (times.max() - times.min()).days + 1 <= 40
    assert 0.01 <= sample["label"].mean() <= 0.06


def test_every_scenario_is_present_and_labelled_fraud(sample: pd.DataFrame) -> None:
    counts = sample["scenario"].value_counts()
    assert set(counts.index) == set(SCENARIOS)
    for scenario in FRAUD_SCENARIOS:
        assert counts[scenario] >= 10, scenario
    assert (sample["label"] == (sample["scenario"] != "legit").astype(int)).all()


# --- the scenarios --------------------------------------------------------------------------


def test_high_amounts_are_labelled_fraud(small: pd.DataFrame) -> None:
    threshold = SMALL.high_amount_threshold
    assert (small.loc[small["amount"] > threshold, "label"] == 1).all()
    assert (small.loc[small["scenario"] == "high_amount", "amount"] > threshold).all()
    assert (small["scenario"] == "high_amount").any()


def test_compromised_terminals_turn_every_transaction_in_their_window_into_fraud(
    small: pd.DataFrame,
) -> None:
    rows = small.assign(time_ms=epoch_ms(small["event_time"]))
    hit = rows[rows["scenario"] == "compromised_terminal"]
    assert hit["terminal_id"].nunique() >= 2
    for terminal, first in hit.groupby("terminal_id")["time_ms"].min().items():
        window_end = first - first % MS_PER_DAY + SMALL.compromised_terminal_days * MS_PER_DAY
        at_terminal = rows[rows["terminal_id"] == terminal]
        in_window = at_terminal[at_terminal["time_ms"].between(first, window_end - 1)]
        assert (in_window["label"] == 1).all(), terminal


def test_compromised_cards_spend_about_five_times_their_usual_amount_within_14_days(
    small: pd.DataFrame,
) -> None:
    rows = small.assign(time_ms=epoch_ms(small["event_time"]))
    stolen = rows[rows["scenario"] == "compromised_card"]
    usual = rows[rows["scenario"] == "legit"].groupby("card_id")["amount"].median()
    ratio = stolen["amount"] / stolen["card_id"].map(usual)
    assert 3.0 <= ratio.median() <= 8.0
    span = stolen.groupby("card_id")["time_ms"].agg(lambda t: t.max() - t.min())
    assert (span < SMALL.compromised_card_days * MS_PER_DAY * 2).all()
    share = (
        stolen.groupby("card_id").size().sum()
        / rows[rows["card_id"].isin(stolen["card_id"])].shape[0]
    )
    assert share < 0.5


def test_card_testing_bursts_are_small_amounts_at_several_terminals_within_minutes(
    small: pd.DataFrame,
) -> None:
    tests = small[small["scenario"] == "card_testing"].assign(
        time_ms=lambda f: epoch_ms(f["event_time"])
    )
    tests = tests.sort_values(["card_id", "time_ms"], kind="stable")
    new_burst = (tests["card_id"] != tests["card_id"].shift()) | (
        tests["time_ms"].diff() > 10 * 60_000
    )
    bursts = tests.groupby(new_burst.cumsum())
    assert bursts.ngroups >= 3
    for _, burst in bursts:
        assert len(burst) >= SMALL.card_testing_min_attempts
        assert burst["terminal_id"].nunique() == len(burst)
        assert burst["time_ms"].max() - burst["time_ms"].min() <= 5 * 60_000
        assert burst["amount"].between(0.5, 3.0).all()
    assert (tests["channel"] == "ecom").all()


def test_impossible_travel_pairs_imply_speed_above_limit(small: pd.DataFrame) -> None:
    pairs = with_travel(by_card_in_time_order(small))
    travel = pairs[pairs["scenario"] == "impossible_travel"]
    assert len(travel) >= 10
    assert (travel["prev_scenario"] == "legit").all()
    assert (travel["km"] > SMALL.impossible_travel_min_km).all()
    assert (travel["kmh"] > SMALL.impossible_travel_max_speed_kmh).all()
    assert (travel["channel"] == "pos").all()


def test_genuine_spending_never_looks_like_impossible_travel(small: pd.DataFrame) -> None:
    pairs = with_travel(by_card_in_time_order(small))
    genuine = pairs[(pairs["scenario"] == "legit") & (pairs["prev_scenario"] == "legit")]
    assert len(genuine) > 1_000
    assert (genuine["km"] <= 2 * SMALL.neighbourhood_km).all()


def test_customers_shop_near_home(sample: pd.DataFrame) -> None:
    genuine = sample[sample["scenario"] == "legit"]
    centre = genuine.groupby("card_id")[["lat", "lon"]].transform("median")
    km = haversine_km(centre["lat"], centre["lon"], genuine["lat"], genuine["lon"])
    assert np.mean(km < 100) > 0.95


# --- the contract and the formats -----------------------------------------------------------


def test_rows_follow_transaction_v1_contract(small: pd.DataFrame) -> None:
    assert list(small.columns) == list(TRANSACTION_COLUMNS)
    assert small["transaction_id"].is_unique
    assert small["event_time"].str.match(RFC3339_UTC_MS).all()
    assert (small["amount"] > 0).all()
    assert np.allclose(small["amount"], small["amount"].round(2))
    assert (small["currency"] == "EUR").all()
    assert small["card_id"].str.fullmatch(r"card_\d{6}").all()
    assert not small["card_id"].str.fullmatch(PAN_LIKE).any()
    assert small["terminal_id"].str.fullmatch(r"term_\d{5}").all()
    assert small["merchant_category"].str.fullmatch(r"\d{4}").all()
    assert small["country"].str.fullmatch(r"[A-Z]{2}").all()
    assert small["channel"].isin(["pos", "ecom"]).all()
    assert small["lat"].between(30, 60).all() and small["lon"].between(-15, 25).all()
    assert set(small["label"].unique()) == {0, 1}
    order = small.assign(time_ms=epoch_ms(small["event_time"]))[["time_ms", "transaction_id"]]
    assert order.equals(order.sort_values(["time_ms", "transaction_id"]))


def test_json_lines_have_contract_types(tmp_path: Path) -> None:
    path = tmp_path / "tx.jsonl"
    write_frame(simulate(SimulationConfig(customers=30, terminals=30, days=3)), path)
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert list(record) == list(TRANSACTION_COLUMNS)
        assert all(isinstance(record[f], str) for f in ("transaction_id", "card_id", "currency"))
        assert isinstance(record["amount"], float) and record["amount"] > 0
        assert isinstance(record["lat"], float) and isinstance(record["lon"], float)
        assert record["label"] in (0, 1) and isinstance(record["scenario"], str)


@pytest.mark.parametrize("extension", ["jsonl", "csv", "parquet"])
def test_output_formats_round_trip(small: pd.DataFrame, tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"tx.{extension}"
    write_frame(small, path)
    pd.testing.assert_frame_equal(read_frame(path), small)


def test_format_flag_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "tx.data"
    args = ["--customers", "20", "--terminals", "20", "--days", "2", "--format", "csv"]
    assert simulate_cli.main(["--out", str(path), *args]) == 0
    assert path.read_text(encoding="utf-8").startswith(",".join(TRANSACTION_COLUMNS) + "\n")
    with pytest.raises(SystemExit):
        simulate_cli.main(["--out", str(tmp_path / "tx.data"), "--days", "1"])


def test_cli_help_explains_every_option() -> None:
    parser = simulate_cli.build_parser()
    for action in parser._actions:
        assert action.help, action.dest
    assert "--customers" in parser.format_help()


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="customers"):
        SimulationConfig(customers=0)
    with pytest.raises(SystemExit):
        simulate_cli.main(["--out", "x.jsonl", "--days", "0"])


# --- labels ---------------------------------------------------------------------------------


def test_labels_are_chargebacks_reported_one_to_thirty_days_later(sample: pd.DataFrame) -> None:
    labels = derive_labels(sample, seed=5)
    assert list(labels.columns) == list(LABEL_COLUMNS)
    assert len(labels) == len(sample)
    assert (labels["source"] == "chargeback").all()
    truth = sample.set_index("transaction_id")["label"]
    expected = labels["transaction_id"].map(truth).map({1: "fraud", 0: "legit"})
    assert (labels["label"] == expected).all()
    delay = epoch_ms(labels["reported_at"]) - epoch_ms(labels["event_time"])
    assert ((delay >= MS_PER_DAY) & (delay <= 30 * MS_PER_DAY)).all()
    assert labels["reported_at"].str.match(RFC3339_UTC_MS).all()
    assert list(epoch_ms(labels["reported_at"])) == sorted(epoch_ms(labels["reported_at"]))
    assert labels.equals(derive_labels(sample, seed=5))
    fraud_only = derive_labels(sample, seed=5, fraud_only=True)
    assert (fraud_only["label"] == "fraud").all()
    assert len(fraud_only) == sample["label"].sum()


def test_committed_labels_match_the_committed_sample(sample: pd.DataFrame) -> None:
    records = [json.loads(line) for line in SAMPLE_LABELS.read_text("utf-8").splitlines()]
    assert len(records) == len(sample)
    assert all(list(r) == list(LABEL_COLUMNS) for r in records)
    frauds = {r["transaction_id"] for r in records if r["label"] == "fraud"}
    assert frauds == set(sample.loc[sample["label"] == 1, "transaction_id"])
