"""The QuickSight dashboard as code (infra/terraform/modules/analytics/dashboard.tf), parsed
with python-hcl2 and held against the figures' SQL as DuckDB runs it:

- one data set per figure SQL file, and the columns each declares are the columns (and
  types) the SQL returns;
- every column a visual of the analysis names (dynamic blocks expanded as Terraform would)
  is declared by the data set it names; the layout places every visual;
- the dashboard is published from the analysis through a template, with every figure's
  data set, and follows the sheet's version; everything is behind the enable flag; the
  principal variables accept QuickSight user/group ARNs only.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from lambdas.alert_fanout.lake import lake_line
from local.insights.figures import FIGURES, FIGURES_DIR
from local.insights.lake import open_lake
from tests.test_insights import written_alerts
from tests.test_terraform_checks import terraform_test_module
from tests.test_terraform_wiring import MODULES, blocks, named

ANALYTICS = MODULES / "analytics"
QUICKSIGHT_TO_DUCKDB = {
    "STRING": {"VARCHAR"},
    "INTEGER": {"BIGINT", "INTEGER", "HUGEINT"},
    "DECIMAL": {"DOUBLE"},
    "DATETIME": {"TIMESTAMP"},
}
# Functions and syntax of one engine only: the figures must run on both.
ONE_ENGINE_ONLY = re.compile(
    r"::|\bfrom_iso8601|\bdate_parse\b|\bstrptime\b|\bstrftime\b|\bilike\b|`|\blist_\w+|"
    r"\bdate_format\b|\bregexp_like\b|\bregexp_matches\b",
    re.IGNORECASE,
)
REFERENCE = re.compile(r"\$\{(\w+)\.(key|value)((?:\.\w+)*)\}")


def resources() -> dict[str, dict[str, Any]]:
    return blocks(ANALYTICS, "resource")


def declared_columns() -> dict[str, list[dict[str, str]]]:
    figures: dict[str, list[dict[str, str]]] = named(ANALYTICS, "locals")["figures"]
    return figures


# ---- the dynamic blocks, expanded as Terraform would -----------------------------


def resolve(text: str, scope: dict[str, tuple[Any, Any]]) -> Any:
    """`${it.value.field}` / `${it.key}` against the iterators in scope; a string that is
    exactly one reference gives the referenced value itself (it may be a list)."""

    def lookup(match: re.Match[str]) -> Any:
        key, value = scope[match.group(1)]
        found = key if match.group(2) == "key" else value
        for part in filter(None, match.group(3).split(".")):
            found = found[part]
        return found

    whole = REFERENCE.fullmatch(text)
    if whole and whole.group(1) in scope:
        return lookup(whole)
    return REFERENCE.sub(
        lambda m: str(lookup(m)) if m.group(1) in scope else m.group(0),
        text,
    )


def for_each_items(expression: str, scope: dict[str, tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    local = re.fullmatch(r"\$\{local\.(\w+)\}", expression)
    if local:
        value = named(ANALYTICS, "locals")[local.group(1)]
    elif expression == "${aws_quicksight_data_set.figure}":
        # one data set per figure, keyed by the figure's name
        value = {name: {"arn": f"<data set {name}>"} for name in declared_columns()}
    else:
        value = resolve(expression, scope)
    if isinstance(value, dict):
        return list(value.items())
    assert isinstance(value, list), f"cannot expand for_each = {expression}"
    return list(enumerate(value))


def expand(node: Any, scope: dict[str, tuple[Any, Any]]) -> Any:
    if isinstance(node, str):
        return resolve(node, scope)
    if isinstance(node, list):
        return [expand(item, scope) for item in node]
    if not isinstance(node, dict):
        return node
    expanded: dict[str, Any] = {}
    for key, value in node.items():
        if key != "dynamic":
            expanded.setdefault(key, []).extend(
                expand(value, scope) if isinstance(value, list) else [expand(value, scope)]
            )
            continue
        for dynamic in value:
            for block_name, body in dynamic.items():
                iterator = body.get("iterator", block_name)
                for item in for_each_items(body["for_each"], scope):
                    inner = {**scope, iterator: item}
                    expanded.setdefault(block_name, []).extend(expand(body["content"], inner))
    return {
        k: v[0] if len(v) == 1 and not isinstance(v[0], dict) else v for k, v in expanded.items()
    }


@cache
def definition(resource: str) -> dict[str, Any]:
    expanded = expand(resources()[resource]["definition"][0], {})
    assert isinstance(expanded, dict)
    return expanded


def walk(node: Any, key: str) -> list[Any]:
    """Every value under `key`, anywhere below node."""
    found: list[Any] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                found.extend(value if isinstance(value, list) else [value])
            found.extend(walk(value, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(walk(item, key))
    return found


def column_references(resource: str) -> list[tuple[str, str]]:
    identifiers = walk(definition(resource), "column") + walk(definition(resource), "sort_by")
    return [(c["data_set_identifier"], c["column_name"]) for c in identifiers]


# ---- figures: data sets and SQL ---------------------------------------------------


def test_one_data_set_per_figure_sql_file() -> None:
    files = sorted(path.stem for path in FIGURES_DIR.glob("*.sql"))
    assert sorted(declared_columns()) == files == sorted(f.name for f in FIGURES)
    data_sets = resources()["aws_quicksight_data_set.figure"]
    custom_sql = data_sets["physical_table_map"][0]["custom_sql"][0]
    assert 'templatefile("${path.module}/figures/${each.key}.sql"' in custom_sql["sql_query"]


def test_figure_sql_uses_only_the_alerts_placeholder_and_both_engines_sql() -> None:
    for path in FIGURES_DIR.glob("*.sql"):
        text = path.read_text()
        assert re.findall(r"\$\{(\w+)\}", text) and set(re.findall(r"\$\{(\w+)\}", text)) == {
            "alerts"
        }, f"{path.name}: templatefile() is given only `alerts`"
        assert "%{" not in text, f"{path.name}: no template directives"
        match = ONE_ENGINE_ONLY.search(text)
        assert match is None, f"{path.name}: {match and match.group(0)} is not in both dialects"


def test_data_set_columns_are_what_each_figure_returns_in_duckdb(tmp_path: Path) -> None:
    hour = tmp_path / "dt=2026-11-28" / "hour=09"
    hour.mkdir(parents=True)
    for index, alert in enumerate(written_alerts()):
        (hour / f"{index}.json").write_bytes(lake_line(alert))
    connection = duckdb.connect()
    open_lake(connection, tmp_path)
    for figure in FIGURES:
        description = connection.execute(figure.sql("alerts")).description or []
        returned = [(str(d[0]), str(d[1])) for d in description]
        declared = declared_columns()[figure.name]
        assert [name for name, _ in returned] == [c["name"] for c in declared], figure.name
        for (name, duck_type), column in zip(returned, declared, strict=True):
            allowed = QUICKSIGHT_TO_DUCKDB[column["type"]]
            assert duck_type in allowed, f"{figure.name}.{name}: DuckDB {duck_type}"


# ---- visuals -------------------------------------------------------------------------


def test_every_column_a_visual_names_is_declared_by_its_data_set() -> None:
    declared = {
        figure: {column["name"] for column in columns}
        for figure, columns in declared_columns().items()
    }
    resource = "aws_quicksight_analysis.alerts"
    references = column_references(resource)
    assert len(references) >= 14, f"{resource}: visuals not expanded"
    for data_set, column in references:
        assert data_set in declared, f"{resource}: unknown data set {data_set}"
        assert column in declared[data_set], f"{resource}: {data_set} has no {column}"
    identifiers = walk(definition(resource), "data_set_identifiers_declarations")
    assert {d["identifier"] for d in identifiers} == set(declared)


def test_the_sheet_has_the_promised_visuals_and_lays_out_each_once() -> None:
    sheet = definition("aws_quicksight_analysis.alerts")["sheets"][0]
    kinds = [next(iter(visual)) for visual in sheet["visuals"]]
    assert kinds.count("line_chart_visual") == 1
    assert kinds.count("bar_chart_visual") == 4
    assert kinds.count("table_visual") == 1
    visual_ids = [
        visual[kind][0]["visual_id"] for visual, kind in zip(sheet["visuals"], kinds, strict=True)
    ]
    placed = [e["element_id"] for e in walk(sheet["layouts"], "elements")]
    assert sorted(placed) == sorted(visual_ids) and len(set(visual_ids)) == len(visual_ids)
    field_ids = walk(sheet["visuals"], "field_id")
    assert len(field_ids) == len(set(field_ids)), "field ids must be unique"
    charted = {c for c, _ in column_references("aws_quicksight_analysis.alerts")}
    assert charted == {f.name for f in FIGURES}, "a figure without a visual"


def test_the_dashboard_is_published_from_the_analysis_through_its_template() -> None:
    template = resources()["aws_quicksight_template.alerts"]
    dashboard = resources()["aws_quicksight_dashboard.alerts"]
    assert "definition" not in dashboard and "definition" not in template
    source_analysis = expand(template["source_entity"][0], {})["source_analysis"][0]
    source_template = expand(dashboard["source_entity"][0], {})["source_template"][0]
    assert source_analysis["arn"] == "${aws_quicksight_analysis.alerts[0].arn}"
    assert source_template["arn"] == "${aws_quicksight_template.alerts[0].arn}"
    analysis = definition("aws_quicksight_analysis.alerts")
    declared = {
        d["identifier"]: d["data_set_arn"]
        for d in walk(analysis, "data_set_identifiers_declarations")
    }
    for source in (source_analysis, source_template):
        references = source["data_set_references"]
        assert {r["data_set_placeholder"]: r["data_set_arn"] for r in references} == declared
    for resource in (template, dashboard):  # a changed sheet is a new version of both
        assert "${local.sheet_version}" in resource["version_description"]


# ---- switch and permissions ------------------------------------------------------


def test_every_quicksight_resource_is_behind_the_enable_flag() -> None:
    for name, body in resources().items():
        if not name.startswith("aws_quicksight_"):
            continue
        switch = body.get("count", body.get("for_each", ""))
        assert "var.enable_quicksight ?" in str(switch), f"{name} is not behind the flag"


def arn_pattern(variable: str) -> re.Pattern[str]:
    condition = named(ANALYTICS, "variable")[variable]["validation"][0]["condition"]
    match = re.search(r'regex\(\\?"(.+?)\\?", ', condition)
    assert match, condition
    return re.compile(match.group(1).replace("\\\\", "\\"))


def test_principal_variables_accept_quicksight_users_and_groups_only() -> None:
    good = [
        "arn:aws:quicksight:eu-west-1:123456789012:user/default/analyst",
        "arn:aws:quicksight:us-east-1:123456789012:group/default/fraud-readers",
    ]
    bad = [
        "arn:aws:iam::123456789012:user/analyst",
        "arn:aws:quicksight:eu-west-1:123456789012:dashboard/x",
        "analyst",
    ]
    for variable in ("quicksight_principal_arn", "quicksight_dashboard_reader_arns"):
        pattern = arn_pattern(variable)
        assert all(pattern.search(arn) for arn in good), variable
        assert not any(pattern.search(arn) for arn in bad), variable


def test_dashboard_readers_get_read_only_actions() -> None:
    readers = named(ANALYTICS, "locals")["quicksight_dashboard_reader_actions"]
    assert readers and all(
        action.split(":")[1].startswith(("Describe", "List", "Query")) for action in readers
    )


def test_the_module_plans_against_the_provider_schema(tmp_path: Path) -> None:
    """terraform test (modules/analytics/tests/dashboard.tftest.hcl) with a mock provider:
    off by default, six rendered figure data sets and the dashboard when on, principals
    required and validated."""
    output = terraform_test_module(tmp_path, "analytics")
    assert "4 passed, 0 failed" in output, output
