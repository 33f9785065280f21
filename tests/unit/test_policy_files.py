"""Scenario files: the TOML format is read and checked without a database, errors name the
file, the key and the value, and every file of scenarios/ is valid."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.errors import CritminError
from critmin.policy import ScenarioFileError, list_scenarios, read_scenario
from critmin.simulator import Stockpile
from critmin.simulator.scenario import FAILURE_PRESETS

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
name = "test-ban"
description = "A ban."
commodity = "cobalt_oxides"
years = [2024]
failure_rule = "buffer-1pct"

[[sources]]
title = "A source"
url = "https://example.org/a"
date = 2025-02-22

[[shocks]]
source = "COD"
phases = [{ months = 4, cut = 1.0 }, { months = 2, cut = 0.5 }]
targets = ["CHN"]

[[coalitions]]
members = ["ZMB", "NAM"]
months = 3

[stockpiles]
JPN = "3months"
KOR = 120

[parameters]
alpha = 0.7
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_file_reads_into_shocks_stockpiles_and_parameters(tmp_path: Path) -> None:
    sc = read_scenario(write(tmp_path, GOOD))
    assert sc.name == "test-ban" and sc.years == (2024,) and sc.run_id == "policy_test-ban"
    shocks = {s.source: s for s in sc.shocks}
    assert shocks["COD"].fraction == pytest.approx(5 / 12)
    assert shocks["COD"].targets == ("CHN",)
    assert shocks["ZMB"].fraction == shocks["NAM"].fraction == pytest.approx(0.25)
    assert shocks["ZMB"].group == "NAM+ZMB"
    assert sc.stockpiles == {"JPN": Stockpile.months(3), "KOR": Stockpile(120)}
    assert sc.parameters.alpha == 0.7 and sc.parameters.fail_rel == 0.01
    assert sc.sources[0].date == "2025-02-22"
    assert len(sc.digest) == 16


@pytest.mark.parametrize(
    ("change", "key", "value"),
    [
        (("years = [2024]", "yeers = [2024]"), "yeers", "[2024]"),
        (('source = "COD"', 'source = "XXX"'), "shocks[0].source", "'XXX'"),
        (
            ('commodity = "cobalt_oxides"', 'commodity = "unobtainium"'),
            "commodity",
            "'unobtainium'",
        ),
        (("cut = 0.5", "cut = 1.5"), "shocks[0].phases[1].cut", "1.5"),
        (("months = 3", "months = 3\nfraction = 0.2"), "coalitions[0]", "['fraction', 'months']"),
        (('JPN = "3months"', 'JPN = "3 weeks"'), "stockpiles.JPN", "'3 weeks'"),
        (("KOR = 120", "KOR = -1"), "stockpiles.KOR", "-1"),
        (("alpha = 0.7", "alpha = 2"), "parameters.alpha", "2"),
        (("alpha = 0.7", "beta = 2"), "parameters.beta", "2"),
        (('"buffer-1pct"', '"strict"'), "failure_rule", "'strict'"),
        (('targets = ["CHN"]', 'targets = ["COD"]'), "shocks[0].targets", "['COD']"),
        (('members = ["ZMB", "NAM"]', 'members = ["ZMB", "COD"]'), "shocks", "'COD'"),
        (
            ('url = "https://example.org/a"', 'url = "example.org"'),
            "sources[0].url",
            "'example.org'",
        ),
        (("years = [2024]", 'years = "newest"'), "years", "'newest'"),
        (('name = "test-ban"', 'name = "Test Ban"'), "name", "'Test Ban'"),
        (("years = [2024]", 'years = [2024]\npreset = "real"'), "preset", "'real'"),
        (('targets = ["CHN"]', 'mode = "import"'), "shocks[0].mode", "'import'"),
        (('JPN = "3months"', 'JPN = "4000days"'), "stockpiles.JPN", "'4000days'"),
    ],
)
def test_errors_name_the_file_the_key_and_the_value(
    tmp_path: Path, change: tuple[str, str], key: str, value: str
) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1), "bad.toml")
    with pytest.raises(ScenarioFileError) as caught:
        read_scenario(path)
    message = str(caught.value)
    assert isinstance(caught.value, CritminError)
    assert message.startswith(f"bad.toml: {key} = {value}: "), message
    assert "\n" not in message


def test_missing_keys_and_broken_toml_are_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match=r"^m.toml: description = None: missing"):
        read_scenario(write(tmp_path, GOOD.replace('description = "A ban."', ""), "m.toml"))
    with pytest.raises(ScenarioFileError, match=r"^x.toml: \(syntax\) = 'x.toml': not valid TOML"):
        read_scenario(write(tmp_path, "name = ", "x.toml"))
    no_shock = GOOD.split("[[shocks]]")[0]
    with pytest.raises(ScenarioFileError, match="at least one"):
        read_scenario(write(tmp_path, no_shock, "n.toml"))


def test_the_cli_shows_a_bad_file_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('source = "COD"', 'source = "XXX"'), "bad.toml")
    result = CliRunner().invoke(app, ["scenario", "run", str(path)])
    assert result.exit_code == 2
    assert "bad.toml: shocks[0].source = 'XXX': unknown country" in result.output


def test_every_file_of_the_scenarios_folder_is_valid_and_cites_sources() -> None:
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert len(files) >= 5
    names = set()
    for path in files:
        sc = read_scenario(path)
        assert sc.sources and all(c.url.startswith("https://") for c in sc.sources)
        assert path.stem == sc.name
        names.add(sc.name)
    table = list_scenarios(ROOT / "scenarios")
    assert set(table["name"]) == names
    # Every bundled file runs the physical model with the noise-free rule and states its basis.
    assert set(table["preset"]) == {"physical"} and set(table["failure_rule"]) == {"share-1pct"}
    basis = table.set_index("name")[["measure", "fallback"]]
    assert basis.loc["drc-cobalt-ban-2025"].tolist() == ["metal", "cobalt_oxides"]
    assert basis.loc["china-graphite-2023"].tolist() == ["tonnes", "graphite_natural"]
    assert basis.loc["china-gallium-germanium-2023"].tolist() == ["usd", ""]
    result = CliRunner().invoke(
        app, ["scenario", "list", "--dir", str(ROOT / "scenarios"), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "drc-cobalt-ban-2025" in result.output


def test_stockpile_option_refuses_bad_items() -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--commodity", "cobalt_oxides", "--stockpile", "JPN=lots"]
    )
    assert result.exit_code == 2
    assert "--stockpile" in result.output


# ---------------------------------------------------------------- files that are not scenarios


def scenario_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["scenario", *args], env={"COLUMNS": "250", "NEO4J_URI": "bolt://127.0.0.1:9"}
    )
    assert "Traceback" not in result.output, result.output
    return result.exit_code, " ".join(result.output.split())


def test_a_deeply_nested_file_is_one_line_and_list_goes_on(tmp_path: Path) -> None:
    deep = write(tmp_path, "x = " + "[" * 50_000 + "]" * 50_000, "deep.toml")
    with pytest.raises(ScenarioFileError, match="nested too deeply"):
        read_scenario(deep)
    write(tmp_path, GOOD, "good.toml")
    table = list_scenarios(tmp_path).set_index("file")
    assert table.loc["good.toml", "name"] == "test-ban"
    assert "nested too deeply" in table.loc["deep.toml", "title"]
    code, output = scenario_cli("run", str(deep))
    assert code == 2 and "deep.toml: (syntax)" in output and "nested too deeply" in output


def test_a_device_is_refused_without_reading_it() -> None:
    # /dev/zero never ends: reading it whole would hang and fill memory.
    code, output = scenario_cli("run", "/dev/zero")
    assert code == 2 and "is not a regular file" in output


def test_a_file_too_large_to_be_a_scenario_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text(GOOD + "#" * (2 << 20))
    with pytest.raises(ScenarioFileError, match="larger than 1,048,576 bytes"):
        read_scenario(big)


def test_a_byte_order_mark_is_accepted_and_utf16_is_named(tmp_path: Path) -> None:
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + textwrap.dedent(GOOD).encode())
    assert read_scenario(bom).name == "test-ban"
    wide = tmp_path / "wide.toml"
    wide.write_bytes(textwrap.dedent(GOOD).encode("utf-16"))
    with pytest.raises(ScenarioFileError) as caught:
        read_scenario(wide)
    assert "UTF-16" in str(caught.value) and "iconv -f UTF-16 -t UTF-8 wide.toml" in str(
        caught.value
    )


def test_listing_a_folder_that_does_not_exist_fails() -> None:
    code, output = scenario_cli("list", "--dir", "/nonexistent")
    assert code == 2 and "is not a folder" in output


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('name = "test-ban"', 'name = "test-ban"\ntitle = "A\\u0000ban"'), "title"),
        (('name = "test-ban"', 'name = "test-ban"\ntitle = "A\\u001b[31mban"'), "title"),
        (('name = "test-ban"', 'name = "test-ban"\ntitle = "two\\nlines"'), "title"),
        (('description = "A ban."', 'description = "A\\u0000ban."'), "description"),
    ],
)
def test_control_characters_are_refused_at_parse(
    tmp_path: Path, change: tuple[str, str], key: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1), "ctl.toml")
    with pytest.raises(ScenarioFileError, match=rf"^ctl.toml: {key} = .*control character"):
        read_scenario(path)


def test_a_description_may_break_lines(tmp_path: Path) -> None:
    text = GOOD.replace('description = "A ban."', 'description = "A ban.\\nIn two lines."')
    assert read_scenario(write(tmp_path, text)).description == "A ban.\nIn two lines."


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('JPN = "3months"', 'JPN = "1e308months"'), "at most 120 months"),
        (('JPN = "3months"', 'JPN = "1200months"'), "at most 120 months"),
        (("KOR = 120", "KOR = 1e308"), "must be in [0, 1e+13]"),
        (("alpha = 0.7", "alpha = 0.7\nfail_abs = 1e308"), "--fail-abs 1e+308 is above"),
    ],
)
def test_a_file_gets_the_same_bounds_as_the_options(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        read_scenario(write(tmp_path, GOOD.replace(*change, 1), "big.toml"))
    assert says in str(caught.value)


def test_a_file_is_a_study_of_kind_policy(tmp_path: Path) -> None:
    sc = read_scenario(write(tmp_path, GOOD))
    study = sc.study
    assert study.kind == "policy" and not study.is_study
    assert study.commodity == "cobalt_oxides" and study.years == (2024,)
    assert study.sources == ("COD", "NAM", "ZMB")
    assert {s.source: s.targets for s in study.events}["COD"] == ("CHN",)
    assert study.stockpile_texts() == ("JPN=3months", "KOR=120")
    assert study.parameters.alpha == 0.7 and study.parameters.fail_rel == 0.01


def test_files_run_the_physical_preset_unless_they_say_paper(tmp_path: Path) -> None:
    sc = read_scenario(write(tmp_path, GOOD))
    assert sc.parameters.preset == "physical" and sc.parameters.alpha == 0.7
    paper = read_scenario(
        write(tmp_path, GOOD.replace("years = [2024]", 'years = [2024]\npreset = "paper"'))
    )
    assert paper.parameters.preset == "paper" and paper.parameters.fail_rel == 0.01
    share = read_scenario(write(tmp_path, GOOD.replace('"buffer-1pct"', '"share-1pct"')))
    # The rule's floor waits for the network's unit: 1 t, 1 t of metal or 10,000 USD.
    assert (share.parameters.fail_abs, share.parameters.fail_rel) == (None, 0.01)
    rule = FAILURE_PRESETS[share.failure_rule]
    floors = {u: rule.applied(share.parameters, u).fail_abs for u in ("t", "t_metal", "USD")}
    assert floors == {"t": 1.0, "t_metal": 1.0, "USD": 10_000.0}
    restated = read_scenario(
        write(
            tmp_path,
            GOOD.replace('"buffer-1pct"', '"share-1pct"').replace(
                "[parameters]", "[parameters]\nfail_abs = 300000.0"
            ),
        )
    )
    assert rule.applied(restated.parameters, "USD").fail_abs == 300_000.0


def test_days_of_demand_own_modes_and_a_fallback_are_read(tmp_path: Path) -> None:
    text = GOOD.replace('JPN = "3months"', 'JPN = "60days"').replace(
        'targets = ["CHN"]', 'mode = "production"'
    )
    text += """
[fallback]
commodity = "cobalt_oxides"
measure = "metal"
note = "the bundled data lack HS 810520."
load = "critmin load trades BACI.zip --format baci --hs 8105"
"""
    sc = read_scenario(write(tmp_path, text.replace('"cobalt_oxides"\nyears', '"cobalt"\nyears')))
    assert sc.stockpiles["JPN"] == Stockpile.days(60) and str(sc.stockpiles["JPN"]) == "60days"
    cod = next(s for s in sc.shocks if s.source == "COD")
    assert cod.mode == "production" and cod.shock().mode == "production"
    assert "COD 0.417 of production" in sc.shock_text()
    assert sc.fallback is not None and sc.fallback.commodity == "cobalt_oxides"
    assert sc.on_fallback().commodity == "cobalt_oxides" and sc.on_fallback().measure == "metal"
    assert sc.on_fallback().study.chain == ("cobalt_oxides",)


def test_a_file_on_a_chain_gives_each_shock_its_stage(tmp_path: Path) -> None:
    text = GOOD.replace('"cobalt_oxides"\nyears', '"cobalt_chain"\nyears').replace(
        'targets = ["CHN"]', 'targets = ["CHN"]\nstage = 1'
    )
    text += """
[fallback]
commodity = "cobalt_oxides"
note = "no ore."
load = "critmin load trades BACI.zip --format baci --hs 2605"
"""
    sc = read_scenario(write(tmp_path, text))
    assert sc.is_chain and sc.stages == ("cobalt_ore", "cobalt_intermediate", "cobalt_refined")
    stages = {s.source: s.stage for s in sc.shocks}
    assert stages == {"COD": 1, "NAM": 0, "ZMB": 0}  # a coalition without one: the first stage
    assert {s.source: s.stage for s in sc.study.events} == stages
    assert sc.study.chain == sc.stages and "COD 0.417 -> CHN at stage 1 (cobalt_intermediate)" in (
        sc.shock_text()
    )
    # On a fallback of one network every shock hits it.
    assert {s.stage for s in sc.on_fallback().shocks} == {0} and not sc.on_fallback().is_chain


@pytest.mark.parametrize(
    ("commodity", "stage", "problem"),
    [
        ("cobalt_demo", "2", "beyond chain cobalt_demo's stages 0 .. 1 (cobalt -> cobalt_oxides)"),
        ("cobalt_oxides", "1", "cobalt_oxides is one network (stage 0)"),
        ("cobalt_demo", "-1", "must be a stage number"),
        ("cobalt_demo", "true", "must be a stage number"),  # shown as Python's True
    ],
)
def test_a_stage_beyond_the_chain_names_the_file_and_the_value(
    tmp_path: Path, commodity: str, stage: str, problem: str
) -> None:
    text = GOOD.replace('"cobalt_oxides"\nyears', f'"{commodity}"\nyears').replace(
        'targets = ["CHN"]', f"stage = {stage}"
    )
    with pytest.raises(ScenarioFileError) as caught:
        read_scenario(write(tmp_path, text, "far.toml"))
    shown = "True" if stage == "true" else stage
    assert str(caught.value).startswith(f"far.toml: shocks[0].stage = {shown}: {problem}")


def test_a_chain_runs_in_contained_metal_and_a_fallback_chain_has_the_stages(
    tmp_path: Path,
) -> None:
    chain = GOOD.replace('"cobalt_oxides"\nyears', '"cobalt_demo"\nyears')
    with pytest.raises(ScenarioFileError, match=r"^c.toml: measure = 'usd': cobalt_demo is a sup"):
        read_scenario(
            write(tmp_path, chain.replace("years =", 'measure = "usd"\nyears ='), "c.toml")
        )
    far = GOOD.replace('targets = ["CHN"]', 'targets = ["CHN"]')  # one network, stage 0
    far = far.replace('"cobalt_oxides"\nyears', '"cobalt_chain"\nyears').replace(
        'targets = ["CHN"]', "stage = 2"
    )
    far += '[fallback]\ncommodity = "cobalt_demo"\nnote = "n."\nload = "critmin load x"\n'
    with pytest.raises(ScenarioFileError, match=r"^f.toml: fallback.commodity = 'cobalt_demo': "):
        read_scenario(write(tmp_path, far, "f.toml"))
