"""The study definition built at the edge: repeats merged, absurd numbers and runs that cannot
finish refused before a server is asked, secrets kept out of the stored command line, and one
rule for which run is "the study".

The CLI cases need no server: each is refused before one is asked for (``NEO4J_URI`` points
at a port nothing listens on).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.defaults import DEFAULT_SHOCKS, KEEP_SHARE, MAX_SCENARIOS
from critmin.simulator import Stockpile
from critmin.simulator.scenario import Parameters, Shock
from critmin.study import (
    InvalidParameters,
    RunKind,
    RunTooLarge,
    Study,
    YearsNotHeld,
    redact_command,
)
from critmin.units import Measure

NOWHERE = "bolt://127.0.0.1:9"  # never reached: every case fails before connecting


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250", "NEO4J_URI": NOWHERE})
    return result.exit_code, result.output


def refused(code: int, output: str) -> str:
    """A refusal: exit code 2, no traceback, the reason in the output."""
    assert code == 2, output
    assert "Traceback" not in output, output
    return " ".join(output.split())


# ---------------------------------------------------------------- the object


def test_repeated_shocks_sources_and_targets_are_one_definition() -> None:
    once = Study.build("cobalt_oxides", shocks=[1.0], sources=["COD"], targets=["CHN"])
    twice = Study.build(
        "cobalt_oxides", shocks=[1, 1.0], sources=["COD", " cod"], targets=["CHN", "chn"]
    )
    assert twice == once
    assert twice.shocks == (1.0,) and twice.sources == ("COD",) and twice.targets == ("CHN",)
    assert Study.build("cobalt_oxides", shocks=[0.5, 1.0, 0.5]).shocks == DEFAULT_SHOCKS


def test_the_defaults_are_decided_once() -> None:
    study = Study.build("cobalt_oxides")
    assert study.shocks == DEFAULT_SHOCKS == (1.0, 0.5)
    assert study.keep_share == KEEP_SHARE == 0.01
    assert study.measure is Measure.AUTO and study.parameters == Parameters()
    assert study.max_scenarios == MAX_SCENARIOS


@pytest.mark.parametrize(
    ("options", "kind", "is_study"),
    [
        ({}, RunKind.STUDY, True),
        ({"years": [2023, 2024], "shocks": [0.3], "measure": "usd"}, RunKind.STUDY, True),
        ({"stockpiles": {"JPN": "3months"}}, RunKind.STUDY, False),
        ({"alpha": 0.5}, RunKind.STUDY, False),
        ({"fail_abs": 1e-3}, RunKind.STUDY, False),
        ({"sources": ["COD"]}, RunKind.SELECTION, False),
        ({"sources": ["COD", "ZMB"], "together": True}, RunKind.COALITION, False),
        ({"coalitions": 2, "top": 5}, RunKind.COALITION, False),
        ({"sources": ["CHN"], "targets": ["USA"]}, RunKind.EMBARGO, False),
        ({"events": (Shock("COD", 0.25),)}, RunKind.POLICY, False),
    ],
)
def test_kind_and_whether_a_run_is_the_study(
    options: dict[str, object], kind: RunKind, is_study: bool
) -> None:
    study = Study.build("cobalt_oxides", **options)  # type: ignore[arg-type]
    assert study.kind is kind and study.is_study is is_study


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"stockpiles": {"CHN": "1e308months"}}, "at most 120 months"),
        ({"stockpiles": {"CHN": "1200months"}}, "at most 120 months"),
        ({"stockpiles": {"CHN": 1e308}}, "above 1e+13"),
        ({"stockpiles": {"CHN": "1e308"}}, "above 1e+13"),
        ({"fail_abs": 1e308}, "--fail-abs 1e+308 is above 1e+13"),
        ({"measure": "tonnes", "fail_abs": 1e12}, "above 1e+10 (tonnes)"),
        ({"measure": "kg"}, "--measure 'kg' is not a measure"),
        ({"shocks": [0.0]}, "shock fraction must be in (0, 1]"),
        ({"shocks": [float("nan")]}, "finite"),
        ({"keep_share": 2.0}, "--keep-share must be in [0, 1]"),
        ({"years": [2002, 20024]}, "20024 is outside 1900-2100"),
        ({"top": 100}, "--top-exporters chooses the members of --coalitions"),
        ({"sources": ["COD"], "targets": ["COD"]}, "both a --source and a --target"),
        ({"together": True}, "--together needs the coalition's members"),
        ({"alpha": 2.0}, "alpha must be in [0, 1.0]"),
    ],
)
def test_absurd_values_are_refused_where_they_enter(options: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        Study.build("cobalt_oxides", **options)  # type: ignore[arg-type]
    assert says in str(caught.value)


def test_quantities_are_held_to_the_bound_of_the_network_unit() -> None:
    study = Study.build("cobalt_oxides", stockpiles={"JPN": 5e11}, fail_abs=2e11)
    study.check_unit("USD")  # within 1e13 USD
    with pytest.raises(InvalidParameters, match=r"above 1e\+10 \(tonnes\)"):
        study.check_unit("t")


def test_a_run_is_sized_before_it_starts() -> None:
    huge = Study.build("cobalt_oxides", coalitions=3, top=100_000)
    assert huge.planned_scenarios(1, 212) == 2 * (1_565_620 + 212)
    with pytest.raises(RunTooLarge) as caught:
        huge.check_size(1, 212)
    message = str(caught.value)
    assert "3,131,664 scenarios" in message and "200,000" in message
    assert "--allow-large" in message
    unlimited = Study.build("cobalt_oxides", coalitions=3, top=100_000, max_scenarios=None)
    assert unlimited.check_size(1, 212) == 3_131_664
    assert Study.build("cobalt_oxides").check_size(23, 150) == 6_900


def test_years_outside_the_data_are_refused_naming_the_years_held() -> None:
    held = list(range(2002, 2025))
    assert Study.build("cobalt_oxides").chosen_years(held) == held
    assert Study.build("cobalt_oxides", years=[2024, 2023]).chosen_years(held) == [2023, 2024]
    with pytest.raises(
        YearsNotHeld, match="--years 2025-2030: the loaded cobalt_oxides trade holds 2002-2024"
    ):
        Study.build("cobalt_oxides", years=range(2020, 2031)).chosen_years(held)


def test_stockpiles_merge_repeats_and_refuse_contradictions() -> None:
    study = Study(chain=("cobalt",), stockpiles=(("jpn", Stockpile(30)), ("JPN", Stockpile(30))))
    assert study.stockpile_texts() == ("JPN=30",)
    with pytest.raises(InvalidParameters, match="JPN is given twice"):
        Study(chain=("cobalt",), stockpiles=(("JPN", Stockpile(30)), ("JPN", Stockpile(40))))


def test_a_chain_is_an_ordered_list_of_stages() -> None:
    single = Study.build("cobalt_oxides")
    assert single.chain == ("cobalt_oxides",) and not single.is_chain
    chain = Study.build(["cobalt_ores", "cobalt_oxides"])
    assert chain.is_chain and chain.commodity == "cobalt_oxides"


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "argv",
    [
        ["critmin", "simulate", "--password", "hunter2", "--commodity", "cobalt"],
        ["critmin", "simulate", "--password=hunter2", "--commodity", "cobalt"],
        ["critmin", "simulate", "--uri", "bolt://neo4j:hunter2@db:7687"],
        ["critmin", "simulate", "NEO4J_PASSWORD=hunter2", "--commodity", "cobalt"],
        ["critmin", "query", "x", "-p", "api_key=hunter2"],
    ],
)
def test_a_secret_on_the_command_line_is_redacted(argv: list[str]) -> None:
    line = redact_command(argv)
    assert "hunter2" not in line and "REDACTED" in line
    assert redact_command(" ".join(argv)) == line  # a stored line is cleaned the same way


def test_a_command_without_secrets_is_kept_as_written() -> None:
    argv = ["critmin", "simulate", "--commodity", "cobalt", "--years", "2002-2024"]
    assert redact_command(argv) == " ".join(argv)


# ---------------------------------------------------------------- the CLI edge


@pytest.mark.parametrize("command", ["simulate", "stock-needed", "sensitivity"])
@pytest.mark.parametrize("value", ["bogus", "kg"])
def test_a_bad_measure_is_a_usage_error(command: str, value: str) -> None:
    extra = ["--source", "COD"] if command == "stock-needed" else []
    args = [command, "--commodity", "cobalt_oxides", *extra, "--measure", value]
    output = refused(*run(*args))
    assert "--measure" in output and "auto" in output and "metal" in output


def test_a_bad_measure_for_concentration_is_a_usage_error() -> None:
    output = refused(*run("metrics", "concentration", "--commodity", "cobalt", "--measure", "kg"))
    assert "--measure" in output


def test_a_typo_in_the_years_is_refused_before_anything_is_allocated() -> None:
    # Refused when parsed, before a range of a billion years is made (it once grew to 21 GB).
    output = refused(*run("simulate", "--commodity", "cobalt_oxides", "--years", "0-999999999"))
    assert "outside 1900-2100" in output
    output = refused(*run("simulate", "--commodity", "cobalt_oxides", "--years", "2002-20024"))
    assert "outside 1900-2100" in output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--top-exporters", "5"], "--top-exporters chooses the members of --coalitions"),
        (["--stockpile", "CHN=1e308months"], "at most 120 months"),
        (["--stockpile", "CHN=1e308"], "above 1e+13"),
        (["--stockpile", "CHN=30", "--stockpile", "CHN=40"], "CHN is given twice"),
        (["--fail-abs", "1e308"], "--fail-abs 1e+308 is above"),
        (["--shock", "0"], "(0, 1]"),
        (["--keep-share", "5"], "--keep-share must be in [0, 1]"),
    ],
)
def test_simulate_refuses_absurd_options_before_a_server(args: list[str], says: str) -> None:
    output = refused(*run("simulate", "--commodity", "cobalt_oxides", *args))
    assert says in output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--shock", "0"], "(0, 1]"),
        (["--fail-abs-scale", "1e308"], "fail_abs scale 1e+308 is above"),
        (["--years", "2002-20024"], "outside 1900-2100"),
    ],
)
def test_sensitivity_refuses_absurd_options(args: list[str], says: str) -> None:
    output = refused(*run("sensitivity", "--commodity", "cobalt_oxides", *args))
    assert says in output


def test_stock_needed_refuses_absurd_options() -> None:
    base = ("stock-needed", "--commodity", "cobalt_oxides", "--source", "COD")
    assert "at most 120 months" in refused(*run(*base, "--stockpile", "JPN=1200months"))
    assert "outside 1900-2100" in refused(*run(*base, "--year", "20024"))


def test_a_preset_is_the_parameters_it_names() -> None:
    physical = Study.build("cobalt_oxides", preset="physical", alpha=0.6)
    assert physical.parameters == Parameters.from_preset("physical", alpha=0.6)
    assert not physical.is_study
    assert Study.build("cobalt_oxides", preset="paper").is_study  # the default model
    with pytest.raises(InvalidParameters, match="unknown preset 'bogus'"):
        Study.build("cobalt_oxides", preset="bogus")
    output = refused(*run("simulate", "--commodity", "cobalt_oxides", "--preset", "bogus"))
    assert "--preset: unknown preset 'bogus'" in output


def test_a_shock_beyond_the_chain_is_refused_with_the_stages() -> None:
    chain = ("cobalt", "cobalt_oxides")
    study = Study(chain=chain, events=(Shock("COD", 0.5, stage=1),))
    assert study.is_chain and study.events[0].stage == 1
    with pytest.raises(InvalidParameters, match=r"^shock of COD at stage 2: cobalt -> cobalt_ox"):
        Study(chain=chain, events=(Shock("COD", 0.5, stage=2),))
    with pytest.raises(InvalidParameters, match=r"stage\(s\) 0 .. 0$"):
        Study(chain=("cobalt_oxides",), events=(Shock("COD", 0.5, stage=1),))
