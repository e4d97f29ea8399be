"""Hostile files end in a diagnostic within seconds and reveal nothing."""
from __future__ import annotations

import time

import pytest

from agrippa.sema.analysis import analyze

NODE = '<node op="Relu"><input src="x"/><output name="y"/></node>\n'


def _laughs() -> str:
    ents = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{ents}]>\n'
            '<model><block><node op="Relu" title="&lol9;"/></block></model>')


HOSTILE = {
    "external-entity": ({"main.agr": '<?xml version="1.0"?>\n<!DOCTYPE model [<!ENTITY xxe SYSTEM '
                                     '"file:///etc/passwd">]>\n<model><import from="x" dim="[1]"/><block>'
                                     '<node op="Relu" title="&xxe;"><input src="x"/><output name="y"/></node>'
                                     '</block></model>'}, "xml-entity"),
    "billion-laughs": ({"main.agr": _laughs()}, "xml-entity"),
    "huge-rep": ({"main.agr": '<model><import from="x" dim="[1]"/><block rep="expr(10 ^ 9)"><import from="x"/>'
                              '<node op="Relu"><input src="x"/><output name="y"/></node><export from="y"/>'
                              '</block></model>'}, "too-many-copies"),
    "rep-just-under-the-limit": ({"main.agr": '<model><import from="x" dim="[1]"/><block rep="99999">'
                                              '<import from="x"/>' + NODE * 3 + '<export from="y"/></block></model>'},
                                 "too-many-nodes"),
    "sourcing-cycle": ({"main.agr": '<model><block src="a.agr" name="a"/></model>',
                        "a.agr": '<model><block src="main.agr" name="m"/></model>'}, "source-cycle"),
    "10000-nested-blocks": ({"main.agr": "<model>" + "<block>" * 10000 + "</block>" * 10000 + "</model>"},
                            "xml-too-deep"),
    "50-MB-file": ({"main.agr": '<model><import from="x" dim="[1]"/><block>\n'
                                + NODE * (50_000_000 // len(NODE)) + "</block></model>"}, "file-unreadable"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_ends_in_a_diagnostic(case, tmp_path):
    files, code = HOSTILE[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    t = time.perf_counter()
    an = analyze(str(tmp_path / "main.agr"))
    elapsed = time.perf_counter() - t
    print(f"{case}: {elapsed * 1000:.0f} ms")  # figures, not assertions: machines are shared
    assert any(d.code == code for d in an.diagnostics), [(d.code, d.message) for d in an.diagnostics][:5]
    assert not any("root:" in d.message for d in an.diagnostics)  # nothing of /etc/passwd leaks


def test_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    (tmp_path / "main.agr").write_text(
        f'<!DOCTYPE model [<!ENTITY s SYSTEM "{secret}">]>\n<model><block><node op="Relu" title="&s;">'
        '</node></block></model>')
    an = analyze(str(tmp_path / "main.agr"))
    assert an.graph is not None
    assert all("TOP-SECRET" not in n.name for n in an.graph.nodes)
    assert all("TOP-SECRET" not in d.message for d in an.diagnostics)


def test_a_block_of_nodes_past_the_budget_is_reported_before_any_is_built(tmp_path, monkeypatch):
    """A plain block holding more nodes than the budget: the budget's diagnostic at the first
    node past it, found before expanding (a 20 MB file of nodes costs its parse only)."""
    from agrippa.sema.expand import expander

    monkeypatch.setattr(expander, "MAX_NODES", 50)
    nodes = [f'<node op="Relu"><input src="{"x" if i == 0 else f"y{i - 1}"}"/><output name="y{i}"/></node>'
             for i in range(80)]
    text = '<model>\n<import from="x" dim="[1]"/>\n<block>\n' + "\n".join(nodes) + "\n</block>\n</model>\n"
    (tmp_path / "main.agr").write_text(text)
    an = analyze(str(tmp_path / "main.agr"))
    [d] = [d for d in an.diagnostics if d.code == "too-many-nodes"]
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (3 + 50, 1, 5)
    assert "more than 50 nodes" in d.message
    assert an.graph.nodes == []  # nothing of the block was built


def test_a_block_within_the_budget_is_expanded_as_before(tmp_path, monkeypatch):
    from agrippa.sema.expand import expander

    monkeypatch.setattr(expander, "MAX_NODES", 50)
    nodes = "".join(f'<node op="Relu"><input src="x"/><output name="y{i}"/></node>' for i in range(50))
    (tmp_path / "main.agr").write_text(f'<model><import from="x" dim="[1]"/><block>{nodes}</block></model>')
    an = analyze(str(tmp_path / "main.agr"))
    assert "too-many-nodes" not in {d.code for d in an.diagnostics} and len(an.graph.nodes) == 50
