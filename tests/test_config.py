from __future__ import annotations

import json
from pathlib import Path

import pytest

from flink_job.config import KEYS, LOCAL_PROPERTIES, ConfigError, load_config


def _write(tmp_path: Path, props: dict[str, str]) -> Path:
    path = tmp_path / "application_properties.json"
    path.write_text(json.dumps([{"PropertyGroupId": "FraudDetection", "PropertyMap": props}]))
    return path


def _local_props() -> dict[str, str]:
    groups = json.loads(LOCAL_PROPERTIES.read_text())
    return dict(groups[0]["PropertyMap"])


def test_committed_local_properties_load_with_every_key() -> None:
    config = load_config(LOCAL_PROPERTIES)
    assert config.transactions_stream == "transactions"
    assert set(_local_props()) == set(KEYS)


def test_unknown_key_is_refused_with_the_list_of_known_keys(tmp_path: Path) -> None:
    props = {**_local_props(), "aws.regoin": "eu-west-1"}
    with pytest.raises(ConfigError, match=r"unknown key\(s\).*aws\.regoin.*known keys are"):
        load_config(_write(tmp_path, props))


def test_missing_key_is_named(tmp_path: Path) -> None:
    props = _local_props()
    del props["model.path"]
    with pytest.raises(ConfigError, match=r"missing key 'model\.path'"):
        load_config(_write(tmp_path, props))


def test_non_integer_value_says_which_key_and_what_was_given(tmp_path: Path) -> None:
    props = {**_local_props(), "scoring.batch_size": "lots"}
    with pytest.raises(ConfigError, match=r"scoring\.batch_size must be an integer, got 'lots'"):
        load_config(_write(tmp_path, props))


def test_initial_position_must_be_one_kinesis_knows(tmp_path: Path) -> None:
    props = {**_local_props(), "source.initial_position": "EARLIEST"}
    with pytest.raises(ConfigError, match="LATEST or TRIM_HORIZON"):
        load_config(_write(tmp_path, props))


def test_unreadable_properties_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.json")


@pytest.mark.parametrize("rate", ["0", "-0.5", "1.5", "nan", "lots"])
def test_a_decision_sample_rate_outside_zero_to_one_is_refused(tmp_path: Path, rate: str) -> None:
    props = {**_local_props(), "decisions.sample_rate": rate}
    with pytest.raises(ConfigError, match=r"decisions\.sample_rate must be"):
        load_config(_write(tmp_path, props))


def test_the_decision_log_keeps_every_decision_by_default() -> None:
    config = load_config(LOCAL_PROPERTIES)
    assert config.decisions_stream == "decisions"
    assert config.decisions_sample_rate == 1.0


def test_rules_are_off_locally_and_polled_every_five_seconds_by_default() -> None:
    config = load_config(LOCAL_PROPERTIES)
    assert config.rules_path == ""  # no rule registry: the model decides alone
    assert config.rules_poll_interval_ms == 5000


@pytest.mark.parametrize("interval", ["0", "-5", "soon"])
def test_a_rules_poll_interval_that_is_not_a_positive_integer_is_refused(
    tmp_path: Path, interval: str
) -> None:
    props = {**_local_props(), "rules.poll_interval_ms": interval}
    with pytest.raises(ConfigError, match=r"rules\.poll_interval_ms must be"):
        load_config(_write(tmp_path, props))


def test_the_source_polls_unless_a_fan_out_consumer_is_named(tmp_path: Path) -> None:
    from flink_job.tables import transactions_source_ddl

    polling = load_config(LOCAL_PROPERTIES)
    assert polling.source_efo_consumer == ""
    assert "recordpublisher" not in transactions_source_ddl(polling)
    props = {**_local_props(), "source.efo_consumer": "fraud-stream-dev-detector-scorer"}
    pushed = transactions_source_ddl(load_config(_write(tmp_path, props)))
    assert "'scan.stream.recordpublisher' = 'EFO'" in pushed
    assert "'scan.stream.efo.consumername' = 'fraud-stream-dev-detector-scorer'" in pushed
    assert "'scan.stream.efo.registration' = 'LAZY'" in pushed


@pytest.mark.parametrize("name", ["has space", "x" * 129, "semi;colon", "quote'd"])
def test_a_fan_out_consumer_name_kinesis_would_refuse_is_refused(tmp_path: Path, name: str) -> None:
    props = {**_local_props(), "source.efo_consumer": name}
    with pytest.raises(ConfigError, match=r"source\.efo_consumer must be 1 to 128"):
        load_config(_write(tmp_path, props))
