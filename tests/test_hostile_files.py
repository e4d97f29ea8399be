"""Issue 12, the file-access policy: nothing outside the project is read, special files are
never opened, nothing hangs. Each case in-process (with the audit hook recording every
file opened) and through `agrippa check --format json` in a subprocess."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hostile_helpers import (
    IO,
    SECRET,
    assert_never_opened,
    assert_only_inside,
    cli_check,
    json_span,
    recording,
    span,
    write,
)

from agrippa.sema.analysis import analyze

LIMIT = 10.0  # seconds; generous: the machine is shared (the target is 2 s)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    """A project folder and, beside it, a secret that must never be read."""
    project = tmp_path / "project"
    project.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(f'<model><block><node op="{SECRET}"/></block></model>')
    analyze(str(_write_warm(tmp_path)))  # lazy imports happen here, outside the recording
    return project, secret


def _write_warm(tmp_path: Path) -> Path:
    warm = tmp_path / "warm" / "main.agr"
    warm.parent.mkdir()
    warm.write_text(f'<model>{IO}<block src="a.agr" name="a"/></model>')
    (warm.parent / "a.agr").write_text("<block></block>")
    return warm


def _sourcing(src: str) -> dict[str, str]:
    return {"main.agr": f'<model>{IO}<block src="⟦{src}⟧" name="s"/><export from="x" dim="[3, 4]"/></model>'}


def _analyze_case(project: Path, files: dict, code: str, *forbidden) -> None:
    where, rng = write(project, files)
    t = time.perf_counter()
    with recording() as opened:
        an = analyze(str(project))
    assert time.perf_counter() - t < LIMIT
    found = [d for d in an.diagnostics if d.code == code]
    assert found, [(d.code, d.message) for d in an.diagnostics]
    if rng is not None:
        assert (found[0].file, span(found[0])) == (str(where), rng)
    assert not any(SECRET in d.message for d in an.diagnostics)
    assert_never_opened(opened, *forbidden)
    assert_only_inside(opened, project)


def test_src_climbing_out_of_the_project(world):
    project, secret = world
    _analyze_case(project, _sourcing("../../etc/passwd"), "outside-project", "/etc/passwd")


def test_src_absolute_path_to_a_secret(world):
    project, secret = world
    _analyze_case(project, _sourcing(str(secret)), "outside-project", secret)


def test_sourced_file_symlinked_to_a_secret_outside(world):
    project, secret = world
    (project / "blocks.agr").symlink_to(secret)
    _analyze_case(project, _sourcing("blocks.agr"), "outside-project", secret)


def test_symlinked_folder_leading_outside(world):
    project, secret = world
    (project / "lib").symlink_to(secret.parent)
    _analyze_case(project, _sourcing("lib/secret.txt"), "outside-project", secret)


def test_model_index_outside_the_project(world):
    project, secret = world
    files = {"agrippa.toml": f'[model]\n⟦index⟧ = "{secret}"\n', "main.agr": f"<model>{IO}</model>"}
    _analyze_case(project, files, "outside-project", secret)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_src_naming_a_device(world, device):
    project, _ = world
    _analyze_case(project, _sourcing(device), "outside-project", device)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_symlink_to_a_device_inside_the_project(world, device):
    project, _ = world
    (project / "z.agr").symlink_to(device)
    _analyze_case(project, _sourcing("z.agr"), "outside-project", device)


def test_a_device_in_an_allowed_root_is_still_never_opened(world):
    project, _ = world
    files = {**_sourcing("/dev/zero"), "agrippa.toml": '[project]\nroots = ["/dev"]\n'}
    _analyze_case(project, files, "not-a-regular-file", "/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_hanging(world):
    project, _ = world
    os.mkfifo(project / "pipe.agr")
    _analyze_case(project, _sourcing("pipe.agr"), "not-a-regular-file", project / "pipe.agr")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_the_index(world):
    project, _ = world
    os.mkfifo(project / "pipe.agr")
    files = {"agrippa.toml": '[model]\n⟦index⟧ = "pipe.agr"\n'}
    _analyze_case(project, files, "not-a-regular-file", project / "pipe.agr")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_among_markup_files_does_not_hang_the_index_guess(world):
    project, _ = world
    os.mkfifo(project / "a.agr")
    write(project, {"b.agr": f"<model>{IO}</model>"})
    with recording() as opened:
        analyze(str(project))
    assert_never_opened(opened, project / "a.agr")


def test_a_folder_named_as_a_source(world):
    project, _ = world
    (project / "sub.agr").mkdir()
    _analyze_case(project, _sourcing("sub.agr"), "not-a-regular-file")


def test_a_file_over_the_configured_cap(world):
    project, _ = world
    files = {**_sourcing("big.agr"), "big.agr": "<block>" + " " * 5000 + "</block>",
             "agrippa.toml": '[project]\nmax_file_mb = 0.001\n[model]\nindex = "main.agr"\n'}
    _analyze_case(project, files, "file-too-large", project / "big.agr")


def test_extra_roots_allow_a_shared_library(world, tmp_path):
    project, _ = world
    shared = tmp_path / "shared-blocks"
    shared.mkdir()
    (shared / "relu.agr").write_text('<block><import from="x"/><node op="Relu"><input src="x"/>'
                                     '<output name="y"/></node><export from="y"/></block>')
    files = {"main.agr": f'<model>{IO}<block src="../shared-blocks/relu.agr" name="r"/>'
                         '<export from="r$y" dim="[3, 4]"/></model>',
             "agrippa.toml": '[project]\nroots = ["../shared-blocks"]\n'}
    write(project, files)
    an = analyze(str(project))
    refused = {"outside-project", "not-a-regular-file", "file-too-large", "missing-source"}
    assert not refused & {d.code for d in an.diagnostics}, [(d.code, d.message) for d in an.diagnostics]
    assert str(shared / "relu.agr") in an.graph.files
    assert any(n.op == "Relu" for n in an.graph.nodes)


def test_roots_are_validated(world):
    project, _ = world
    write(project, {"main.agr": f"<model>{IO}</model>",
                    "agrippa.toml": '[project]\nroots = "../x"\nmax_file_mb = -1\n'})
    msgs = [d.message for d in analyze(str(project)).diagnostics if d.code == "config"]
    assert any("project.roots must be a list" in m for m in msgs)
    assert any("project.max_file_mb must be a positive number" in m for m in msgs)


def test_a_diamond_of_sourced_files_hits_the_budget_fast(world):
    project, _ = world
    files = {"main.agr": f'<model>{IO}<block src="f0.agr" name="r"/></model>', "f30.agr": "<block></block>"}
    for i in range(30):
        files[f"f{i}.agr"] = f'<block><block src="f{i + 1}.agr" name="a"/><block src="f{i + 1}.agr" name="b"/></block>'
    write(project, files)
    t = time.perf_counter()
    an = analyze(str(project))
    elapsed = time.perf_counter() - t
    print(f"diamond: {elapsed * 1000:.0f} ms")
    assert elapsed < LIMIT
    [d] = [d for d in an.diagnostics if d.code == "too-many-sourced"]
    assert d.is_error and os.path.basename(d.file).startswith("f")


# -- the same through the command line -------------------------------------------------------

CLI_CASES = {
    "dot-dot": (lambda p, s: _sourcing("../../etc/passwd"), "outside-project"),
    "absolute": (lambda p, s: _sourcing(str(s)), "outside-project"),
    "dev-zero": (lambda p, s: _sourcing("/dev/zero"), "outside-project"),
    "index": (lambda p, s: {"agrippa.toml": f'[model]\n⟦index⟧ = "{s}"\n', "main.agr": "<model></model>"},
              "outside-project"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_check_reports_it(world, case):
    project, secret = world
    make, code = CLI_CASES[case]
    where, rng = write(project, make(project, secret))
    diags, elapsed, _ = cli_check(project)
    assert elapsed < LIMIT
    found = [d for d in diags if d["code"] == code]
    assert found, diags
    assert json_span(found[0]) == rng and Path(project, found[0]["file"]).resolve() == where.resolve()
    assert SECRET not in str(diags)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_cli_check_with_a_fifo_and_a_symlinked_secret(world):
    project, secret = world
    os.mkfifo(project / "pipe.agr")
    (project / "blocks.agr").symlink_to(secret)
    write(project, {"main.agr": f'<model>{IO}<block src="pipe.agr" name="p"/><block src="blocks.agr" name="b"/>'
                                '<export from="x" dim="[3, 4]"/></model>', "agrippa.toml": ""})
    diags, elapsed, _ = cli_check(project)
    assert elapsed < LIMIT
    assert {d["code"] for d in diags} >= {"not-a-regular-file", "outside-project"}
    assert SECRET not in str(diags)


def test_cli_check_on_the_diamond(world):
    project, _ = world
    files = {"main.agr": f'<model>{IO}<block src="f0.agr" name="r"/></model>', "f30.agr": "<block></block>"}
    for i in range(30):
        files[f"f{i}.agr"] = f'<block><block src="f{i + 1}.agr" name="a"/><block src="f{i + 1}.agr" name="b"/></block>'
    write(project, files)
    diags, elapsed, _ = cli_check(project / "main.agr")
    assert elapsed < LIMIT
    assert "too-many-sourced" in {d["code"] for d in diags}


# -- the editor's host reads through the same policy ---------------------------------------------

def _host(buffers: dict[str, str] | None = None):
    from agrippa.ide.host import AnalysisHost

    buffers = buffers or {}
    return AnalysisHost(lambda path: buffers.get(os.path.abspath(path)))


def test_the_host_reads_a_project_file(world):
    project, _ = world
    write(project, {"main.agr": f"<model>{IO}</model>"})
    assert _host().read(str(project / "main.agr")) == f"<model>{IO}</model>"


def test_the_host_never_reads_a_symlink_leading_outside(world):
    """The project is where the path's name puts the file (its agrippa.toml), not where a
    link leads."""
    project, secret = world
    write(project, {"main.agr": f"<model>{IO}</model>", "agrippa.toml": ""})
    (project / "blocks.agr").symlink_to(secret)
    (project / "lib").symlink_to(secret.parent)
    host = _host()
    with recording() as opened:
        assert host.read(str(project / "blocks.agr")) is None
        assert host.read(str(project / "lib" / "secret.txt")) is None
        assert host.read(str(secret), str(project)) is None  # asked for the project, outside it
    assert_never_opened(opened, secret)


def test_a_symlink_opened_directly_stays_in_its_project(world):
    """The editor opens `project/blocks.agr`, a link to a file outside: the analysis takes the
    project the path's name gives (not the link target's folder) and refuses to read it."""
    project, secret = world
    write(project, {"main.agr": f"<model>{IO}</model>", "agrippa.toml": ""})
    (project / "blocks.agr").symlink_to(secret)
    with recording() as opened:
        an = analyze(str(project / "blocks.agr"))
    assert an.project_dir == str(project)
    (d,) = an.diagnostics
    assert (d.code, d.file) == ("file-unreadable", str(project / "blocks.agr"))
    assert "links to a file outside the project folder" in d.message
    assert not any(SECRET in d.message for d in an.diagnostics)
    assert_never_opened(opened, secret)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_the_host_never_opens_a_fifo_or_a_device(world):
    project, _ = world
    os.mkfifo(project / "pipe.agr")
    (project / "z.agr").symlink_to("/dev/zero")
    host = _host()
    with recording() as opened:
        assert host.read(str(project / "pipe.agr")) is None
        assert host.read(str(project / "z.agr")) is None
    assert_never_opened(opened, project / "pipe.agr", "/dev/zero")


def test_the_host_reads_from_an_allowed_root(world, tmp_path):
    project, _ = world
    shared = tmp_path / "shared-blocks"
    shared.mkdir()
    (shared / "relu.agr").write_text("<block></block>")
    write(project, {"agrippa.toml": '[project]\nroots = ["../shared-blocks"]\n', "main.agr": f"<model>{IO}</model>"})
    host = _host()
    assert host.read(str(shared / "relu.agr"), str(project)) == "<block></block>"
    assert host.read(str(tmp_path / "secret.txt"), str(project)) is None


def test_the_host_never_analyses_an_index_outside_the_project(world):
    """`[model] index` names a secret: opening a file of the project never reads it, and the
    toml says why at the key."""
    project, secret = world
    where, rng = write(project, {"agrippa.toml": f'[model]\n⟦index⟧ = "{secret}"\n', "main.agr": f"<model>{IO}</model>"})
    host = _host()
    with recording() as opened:
        an = host.analysis_for(str(project / "main.agr"))
    assert_never_opened(opened, secret)
    [d] = [d for d in an.diagnostics if d.code == "outside-project"]
    assert (d.file, span(d)) == (str(where), rng)
    assert not any(SECRET in d.message for d in an.diagnostics)
