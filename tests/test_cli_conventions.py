"""The command line's conventions: `--version`, `check --format sarif` (SARIF 2.1.0),
`check -` (standard input), exit codes 0/1/2, and help text on every option."""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

import pytest
from sarif_schema import validate

from agrippa import __version__
from agrippa.base.codes import CODES
from agrippa.cli import build_parser, main

BROKEN = ('<model>\n  <import from="x" dim="[3]"/>\n  <block>\n'
          '    <node op="Relu"><input src="xx"/><output name="y"/></node>\n'
          '  </block>\n  <export from="y" dim="[3]"/>\n</model>\n')
CLEAN = ('<model>\n  <import from="x" dim="[var(n)]"/>\n  <block>\n'
         '    <node op="Relu"><input src="x"/><output name="y"/></node>\n'
         '  </block>\n  <export from="y" dim="[var(n)]"/>\n</model>\n')


def run_main(*argv: str, stdin: bytes | None = None, monkeypatch=None) -> int:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    return main(list(argv))


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"agrippa {__version__}")


def test_every_option_and_subcommand_has_help():
    missing = []

    def walk(p: argparse.ArgumentParser, where: str) -> None:
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                helped = {c.dest for c in a._choices_actions if c.help}
                missing.extend(f"{where} {name} (subcommand)" for name in a.choices if name not in helped)
                for name, sp in a.choices.items():
                    walk(sp, f"{where} {name}")
            elif not a.help or a.help == argparse.SUPPRESS:
                missing.append(f"{where} {'/'.join(a.option_strings) or a.dest}")

    walk(build_parser(), "agrippa")
    assert not missing, f"options without help text: {missing}"


# -- exit codes ----------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "compile", "graph"])
def test_a_missing_path_is_a_usage_error(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([command, "nowhere.agr"]) == 2
    assert "no such file or folder: nowhere.agr" in capsys.readouterr().err


def test_exit_codes_clean_errors_usage(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = 3\n")
    (tmp_path / "ok.agr").write_text(CLEAN)
    (tmp_path / "bad.agr").write_text(BROKEN)
    assert main(["check", "ok.agr"]) == 0
    assert main(["check", "bad.agr"]) == 1
    with pytest.raises(SystemExit) as e:
        main(["check", "ok.agr", "--format", "yaml"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2
    assert main(["compile", "-"]) == 2  # only check reads standard input
    assert "standard input" in capsys.readouterr().err


# -- standard input ------------------------------------------------------------------------
def test_check_stdin_names_stdin_and_uses_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = 3\n")
    assert run_main("check", "-", stdin=BROKEN.encode(), monkeypatch=monkeypatch) == 1
    err = capsys.readouterr().err
    assert "<stdin>:4:33: error: 'xx' is not defined; did you mean 'x'? [undefined-tensor]" in err
    # analysed as if in the current folder: agrippa.toml's bindings apply, so no unbound n
    assert run_main("check", "-", "--format", "json", stdin=CLEAN.encode(), monkeypatch=monkeypatch) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_check_stdin_sources_files_beside_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "layer.agr").write_text('<block><import from="x"/><node op="Relu"><input src="x"/>'
                                        '<output name="y"/></node><export from="y"/></block>')
    model = ('<model><import from="x" dim="[3]"/><block src="layer.agr" name="l">'
             '</block><export from="y" dim="[3]"/></model>')
    rc = run_main("check", "-", stdin=model.encode(), monkeypatch=monkeypatch)
    out = capsys.readouterr()
    assert "missing-source" not in out.err + out.out
    assert rc in (0, 1)


def test_check_stdin_refuses_utf16_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run_main("check", "-", stdin=CLEAN.encode("utf-16"), monkeypatch=monkeypatch) == 2
    assert "agrippa check:" in capsys.readouterr().err


def test_check_stdin_as_a_process(tmp_path):
    r = subprocess.run([sys.executable, "-m", "agrippa.cli", "check", "-"], input=BROKEN, text=True,
                       capture_output=True, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("<stdin>:4:33: error:")


# -- SARIF ---------------------------------------------------------------------------------
def sarif_of(tmp_path, monkeypatch, capsys, *extra: str) -> tuple[int, dict]:
    monkeypatch.chdir(tmp_path)
    rc = main(["check", *extra, "--format", "sarif"])
    return rc, json.loads(capsys.readouterr().out)


def test_sarif_is_valid_and_complete(tmp_path, monkeypatch, capsys):
    sub = tmp_path / "models"
    sub.mkdir()
    (sub / "m.agr").write_text(BROKEN)
    rc, log = sarif_of(tmp_path, monkeypatch, capsys, str(sub))
    assert rc == 1
    assert validate(log) == []
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "agrippa" and driver["version"] == __version__
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == set(CODES)  # every registered code is a rule
    for code, r in rules.items():
        assert r["helpUri"].endswith(f"diagnostics.md#{CODES[code].anchor}")
        assert r["shortDescription"]["text"]
    assert rules["undefined-tensor"]["defaultConfiguration"]["level"] == "error"
    assert rules["unknown-attribute"]["defaultConfiguration"]["level"] == "warning"
    assert rules["unused-output"]["defaultConfiguration"]["level"] == "note"
    [res] = [r for r in run["results"] if r["level"] == "error"]
    assert res["ruleId"] == "undefined-tensor"
    assert driver["rules"][res["ruleIndex"]]["id"] == "undefined-tensor"
    assert res["message"]["text"] == "'xx' is not defined; did you mean 'x'?"
    [loc] = res["locations"]
    art = loc["physicalLocation"]["artifactLocation"]
    assert art == {"uri": "m.agr", "uriBaseId": "PROJECTROOT"}  # relative to the project folder
    assert run["originalUriBaseIds"]["PROJECTROOT"]["uri"] == sub.resolve().as_uri() + "/"
    # 1-based, end exclusive: `xx` at line 4, columns 33-34
    assert loc["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 33, "endLine": 4, "endColumn": 35}
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_clean_and_stdin(tmp_path, monkeypatch, capsys):
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = 3\n")
    (tmp_path / "ok.agr").write_text(CLEAN)
    rc, log = sarif_of(tmp_path, monkeypatch, capsys, "ok.agr")
    assert rc == 0 and validate(log) == [] and log["runs"][0]["results"] == []
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BROKEN.encode()), encoding="utf-8"))
    rc, log = sarif_of(tmp_path, monkeypatch, capsys, "-")
    assert rc == 1 and validate(log) == []
    art = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art["uri"] == "%3Cstdin%3E" and art["description"]["text"] == "standard input"


def test_the_validator_catches_broken_logs():
    assert validate({"version": "2.0.0", "runs": []})
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "level": "fatal",
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "<x>"}, "region": {"startLine": 0}}}]}]}]}
    errs = validate(bad)
    assert any("level" in e for e in errs) and any("startLine" in e for e in errs) and any("uri" in e for e in errs)


def test_sarif_uses_the_docs_url_when_set(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AGRIPPA_DOCS_URL", "https://example.org/agrippa/docs/")
    (tmp_path / "m.agr").write_text(BROKEN)
    _, log = sarif_of(tmp_path, monkeypatch, capsys, "m.agr")
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"] == f"https://example.org/agrippa/docs/diagnostics.md#{rule['id']}"
