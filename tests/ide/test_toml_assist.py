"""Hover and completion in agrippa.toml: the user writes the project's configuration and the
editor tells what each table and key means, which keys a table still lacks and which
values a key allows — the same information as the shipped JSON Schema."""
from __future__ import annotations

from agrippa.base.diagnostics import Position
from agrippa.ide.completion import Completion, Options
from agrippa.ide.toml_completion import binding_names, toml_complete
from agrippa.ide.toml_hover import toml_hover

from .markers import marked, open_project, strip_markers
from .projects import MODEL

CONFIG = """[model]
opset = 17

[bindings]
batch = 4

[profiles.small]
dhidden = 8

[train]
data = "data.py:batches"   # the batches
precision = "bf16"
lr = 3e-4
early_stopping = { metric = "eval_loss", patience = 5 }
loggers = ["csv", "tensorboard"]
"""


def hover_at(*snippets: str, text: str = CONFIG) -> tuple[str, list]:
    """The hover's markdown at the cursor, and [its range] beside the marked ranges."""
    m = strip_markers(marked(text, *snippets))
    got = toml_hover(m.text, m.cursor)
    return (got.text if got is not None else ""), [got.range if got is not None else None, *m.ranges]


def completions(text: str, trigger: str | None = None, snippets: bool = True, names=lambda: ()) -> list[Completion]:
    m = strip_markers(text)
    got = toml_complete(m.text, m.cursor, Options(snippets, trigger), names)
    return got.items if got is not None else []


def labels(items: list[Completion]) -> list[str]:
    return [i.label for i in items]


# -- hover ---------------------------------------------------------------------------------
def test_hover_on_precision_shows_its_type_default_values_and_docs():
    text, (got, expected) = hover_at("⟦prec‸ision⟧ =")
    assert got == expected
    assert "**`precision`** — string in `[train]`" in text
    assert 'one of: `"32"`, `"bf16"`, `"16"`' in text
    assert 'default: `"32"`' in text and "gradient scaler" in text
    assert "train.md" in text  # a link to the [train] keys' page


def test_hover_on_a_value_says_the_key_allows_it():
    text, (got, expected) = hover_at('precision = "⟦bf‸16⟧"')
    assert got == expected
    assert text.startswith('`"bf16"`: one of the values `precision` allows') and "autocast" in text


def test_hover_on_table_headers():
    text, _ = hover_at("[tr‸ain]")
    assert text.startswith("**`[train]`** — training with `agrippa train`") and "`precision`" in text
    text, (got, expected) = hover_at("[profiles.⟦sm‸all⟧]")
    assert got == expected and "the bindings profile `small`" in text and "language.md#s9-config" in text
    text, _ = hover_at("[pro‸files.small]")
    assert "named sets of bindings" in text


def test_hover_on_keys_of_other_tables_bindings_and_inline_tables():
    assert "The ONNX opset, 13" in hover_at("op‸set = 17")[0]
    assert "**`batch`** — binding in `[bindings]`" in hover_at("bat‸ch = 4")[0]
    assert "default value for var(dhidden)" in hover_at("dhid‸den = 8")[0]
    text, (got, expected) = hover_at("⟦pat‸ience⟧ = 5")
    assert got == expected and "**`patience`** — integer in `[train.early_stopping]`" in text
    assert hover_at('"tensor‸board"')[0].startswith('`"tensorboard"`: one of the values `loggers` allows')


def test_no_hover_on_comments_blanks_and_unknown_keys():
    assert hover_at("# the ba‸tches")[0] == ""
    assert hover_at("[train]\nfl‸avour = 1", text="[train]\nflavour = 1\n")[0] == ""
    assert hover_at("[ta‸bles]", text="[tables]\n")[0] == ""


# -- completion ------------------------------------------------------------------------------
def test_after_a_bracket_the_tables_not_yet_written():
    items = completions("[model]\nopset = 17\n\n[‸")
    assert labels(items) == ["bindings", "profiles.NAME", "project", "train"]
    train = items[-1]
    assert train.new_text == "train]" and "training with" in train.detail  # the `]` is added
    assert items[1].new_text == "profiles.${1:name}]" and items[1].snippet
    assert completions("[‸]")[0].new_text == "model"  # the `]` is there already
    assert completions("[tr‸ain]\n")[-1].label == "train"  # the header being edited counts as unwritten


def test_inside_train_the_keys_not_yet_written_with_type_and_default():
    items = completions(CONFIG + "acc‸")
    names = labels(items)
    assert "accumulate" in names and "schedule" in names and "device" in names
    assert not {"data", "precision", "lr", "early_stopping", "loggers"} & set(names)
    accumulate = next(i for i in items if i.label == "accumulate")
    assert accumulate.detail == "integer = 1" and accumulate.new_text == "accumulate = ${1:1}"
    assert "Gradient accumulation: batches per optimizer step" in accumulate.doc
    schedule = next(i for i in items if i.label == "schedule")
    assert schedule.new_text == 'schedule = ${1|"constant","inverse_sqrt","noam","cosine","linear"|}'
    plain = next(i for i in completions(CONFIG + "acc‸", snippets=False) if i.label == "accumulate")
    assert plain.new_text == "accumulate = 1" and not plain.snippet


def test_renaming_a_key_replaces_only_its_name():
    items = completions('[train]\nprec‸ision = "bf16"\n')
    precision = next(i for i in items if i.label == "precision")  # it is the key being edited
    assert precision.new_text == "precision"


def test_keys_of_an_inline_table_and_of_model():
    items = completions('[train]\nearly_stopping = { metric = "loss", ‸ }\n')
    assert labels(items) == ["patience", "min_delta"]
    assert labels(completions("[model]\nopset = 17\n‸")) == ["index", "weights", "dynamic"]


def test_after_precision_equals_the_allowed_values():
    items = completions("[train]\nprecision = ‸\n")
    assert labels(items) == ['"32"', '"bf16"', '"16"']
    assert items[0].detail == "precision (default)" and items[1].new_text == '"bf16"'
    quoted = completions('[train]\nprecision = "b‸"\n', trigger='"')  # inside the quotes: the bare value
    assert [i.new_text for i in quoted] == ["32", "bf16", "16"]
    assert labels(completions('[train]\nstrategy = "‸"\n')) == ['"ddp"', '"fsdp"']
    assert labels(completions('[train]\nschedule = ‸\n'))[:3] == ['"constant"', '"inverse_sqrt"', '"noam"']
    assert '"mps"' in labels(completions('[train]\ndevice = ‸\n'))
    assert labels(completions('[train]\nloggers = ["csv", ‸]\n')) == ['"csv"', '"tensorboard"']
    assert labels(completions('[train]\nearly_stopping = { metric = ‸ }\n')) == ['"eval_loss"', '"loss"']


def test_booleans_offer_true_and_false():
    items = completions("[train]\ncompile = t‸\n")
    assert labels(items) == ["true", "false"] and items[1].detail == "boolean (default)"


def test_typing_goes_on_without_a_list_where_nothing_fits():
    assert completions("[train]\nlr = 0.1 ‸\n", trigger=" ") == []  # after a complete value
    assert completions("[train]\nprec‸", trigger=" ") == []  # a space completes only values
    assert completions("[train]\nprecision = ‸", trigger="<") == []
    assert completions("[train]\n# prec‸") == []


def test_bindings_offer_the_names_the_markup_uses(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": "[bindings]\nbatch = 4\n"})
    p.open("model.agr")  # the editor analysed the project
    names = binding_names(p.host, p.path("agrippa.toml"))
    assert {"batch", "dhidden", "nlayers"} <= set(names)
    items = completions("[bindings]\nbatch = 4\n‸", names=lambda: names)
    assert labels(items) == ["dhidden", "nlayers"] and items[0].new_text == "dhidden = $1"
    assert "nlayers" in labels(completions("[profiles.tiny]\nn‸", names=lambda: names))


# -- any text -----------------------------------------------------------------------------
def _answers_everywhere(text: str) -> int:
    """Hover and completion at the end of every prefix of `text` (as it is being typed) and at
    every position of it; how many places answered something."""
    answered = 0
    places = [(text[:cut], len(text[:cut])) for cut in range(len(text) + 1)]
    places += [(text, i) for i in range(len(text) + 1)]
    for t, i in places:
        lines = t[:i].replace("\r\n", "\n").replace("\r", "\n").split("\n")
        pos = Position(len(lines) - 1, len(lines[-1]))
        got = toml_hover(t, pos), toml_complete(t, pos, Options())
        answered += any(g is not None and (not hasattr(g, "items") or g.items) for g in got)
    return answered


def test_half_typed_text_never_raises():
    broken = 'x = [\n[train\nprecision = "bf\nearly_stopping = { metric = [1, { a = "\n[[a.b]] # c\n= 3\n"\\"\' ='
    assert _answers_everywhere(broken) > 0
    assert _answers_everywhere(CONFIG[:260]) > 100


def test_crlf_and_cr_texts_never_raise():
    assert _answers_everywhere(CONFIG[:160].replace("\n", "\r\n")) > 50
    assert _answers_everywhere(CONFIG[:160].replace("\n", "\r")) > 0
    at_train = Position(CONFIG.split("\n").index("[train]"), 2)
    assert "**`[train]`**" in toml_hover(CONFIG.replace("\n", "\r"), at_train).text  # lines end at \r too


def test_cr_only_lines_answer_as_lf_lines():
    at_precision = Position(CONFIG.split("\n").index('precision = "bf16"'), 2)
    assert toml_hover(CONFIG.replace("\n", "\r"), at_precision) == toml_hover(CONFIG, at_precision)


def test_crlf_lines_answer_as_lf_lines():
    crlf = CONFIG.replace("\n", "\r\n")
    for snippet in ("prec‸ision", 'precision = "bf‸16"', "[profiles.sm‸all]", "pat‸ience"):
        lf_text, lf_range = hover_at(snippet)
        crlf_text, crlf_range = hover_at(snippet, text=crlf)
        assert crlf_text == lf_text != "" and crlf_range == lf_range
    assert labels(completions(crlf + "acc‸")) == labels(completions(CONFIG + "acc‸"))
    assert labels(completions(crlf.replace('"bf16"', "‸"))) == ['"32"', '"bf16"', '"16"']
