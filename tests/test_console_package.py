"""console.zip, the artefact Amplify serves: the built site at the root and its config.json."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from infra.package import (
    CONSOLE_CONFIG_TEMPLATE,
    PackagingError,
    build_console_zip,
    console_config_from_outputs,
    read_console_config,
)

OUTPUTS = {
    "api_endpoint": {"value": "https://abc123.execute-api.eu-west-1.amazonaws.com"},
    "cognito_domain": {"value": "fraud-stream-123456789012.auth.eu-west-1.amazoncognito.com"},
    "user_pool_client_id": {"value": "4example5client6id"},
    "console_url": {"value": "https://main.d1example.amplifyapp.com"},
    "user_pool_id": {"value": "eu-west-1_Example"},
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    site = tmp_path / "dist"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><div id=root></div>")
    (site / "assets" / "index-abc.js").write_text("console.log(1)")
    (site / "favicon.svg").write_text("<svg/>")
    return site


def test_the_site_is_at_the_root_of_the_zip_with_its_config(tmp_path: Path, dist: Path) -> None:
    config = console_config_from_outputs(OUTPUTS)
    result = build_console_zip(tmp_path / "out", config, dist)
    with zipfile.ZipFile(result.path) as archive:
        assert sorted(archive.namelist()) == [
            "assets/index-abc.js",
            "config.json",
            "favicon.svg",
            "index.html",
        ]
        assert json.loads(archive.read("config.json")) == config


def test_config_comes_from_the_terraform_outputs() -> None:
    assert console_config_from_outputs(OUTPUTS) == {
        "apiBaseUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "authority": "https://fraud-stream-123456789012.auth.eu-west-1.amazoncognito.com",
        "clientId": "4example5client6id",
        "redirectUri": "https://main.d1example.amplifyapp.com",
        "logoutUri": "https://fraud-stream-123456789012.auth.eu-west-1.amazoncognito.com/logout",
    }


def test_a_missing_terraform_output_is_named() -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k != "cognito_domain"}
    with pytest.raises(PackagingError, match="'cognito_domain'"):
        console_config_from_outputs(outputs)


def test_without_configuration_the_zip_carries_the_template(tmp_path: Path, dist: Path) -> None:
    assert read_console_config(None, None) is None
    result = build_console_zip(tmp_path / "out", None, dist)
    with zipfile.ZipFile(result.path) as archive:
        assert json.loads(archive.read("config.json")) == CONSOLE_CONFIG_TEMPLATE


def test_a_given_config_file_is_used_as_is(tmp_path: Path) -> None:
    given = tmp_path / "config.json"
    config = console_config_from_outputs(OUTPUTS)
    given.write_text(json.dumps(config))
    assert read_console_config(given, None) == config
    given.write_text(json.dumps({"apiBaseUrl": "https://x"}))
    with pytest.raises(PackagingError, match="missing authority, clientId, redirectUri"):
        read_console_config(given, None)


def test_the_zip_is_reproducible(tmp_path: Path, dist: Path) -> None:
    first = build_console_zip(tmp_path / "a", None, dist)
    second = build_console_zip(tmp_path / "b", None, dist)
    assert first.sha256 == second.sha256


def test_an_unbuilt_console_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match="make console"):
        build_console_zip(tmp_path / "out", None, tmp_path / "nothing")


def test_the_root_module_outputs_every_value_the_console_config_reads() -> None:
    import hcl2

    from infra.package import CONSOLE_OUTPUTS

    root = Path(__file__).resolve().parent.parent / "infra" / "terraform" / "outputs.tf"
    with root.open() as handle:
        declared = {name.strip('"') for block in hcl2.load(handle)["output"] for name in block}
    assert set(CONSOLE_OUTPUTS) <= declared, set(CONSOLE_OUTPUTS) - declared
