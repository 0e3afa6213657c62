"""Tests for hotline.flows.model: one broken flow file per validation rule, and the shipped flows.

Every file in ``tests/flows/broken`` starts with ``# expect: <fragment>``; loading it must raise
``FlowError`` whose message starts with the file name and contains the fragment.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from hotline.flows.model import MAX_BUTTON_DATA, FlowError, load_builtin, load_flow, load_flows, parse_flow

BROKEN = Path(__file__).parent / "broken"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))
EXPECT_PREFIX = "# expect: "
# Every validation rule in model.py has a fixture; a rule without one is easy to break unnoticed.
RULES = {
    "not_yaml",
    "not_a_mapping",
    "missing_top_level_key",
    "nodes_empty",
    "node_not_a_mapping",
    "unknown_node_key",
    "bad_next_type",
    "next_without_default",
    "unquoted_answer_key",
    "flag_not_boolean",
    "options_not_a_mapping",
    "button_data_too_long",
    "unknown_expect",
    "expect_without_ask",
    "unknown_save_field",
    "choices_without_options",
    "unknown_keyboard",
    "end_node_with_next",
    "node_without_next_or_end",
    "text_not_a_string",
    "broken_placeholder",
    "unknown_placeholder",
    "start_node_missing",
    "next_to_missing_node",
    "unreachable_node",
    "no_end_node",
}


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(EXPECT_PREFIX), f"{path.name}: the first line must be '{EXPECT_PREFIX}<fragment>'"
    return first.removeprefix(EXPECT_PREFIX).strip()


def test_every_rule_has_a_fixture() -> None:
    assert {path.stem for path in BROKEN_FILES} == RULES


@pytest.mark.parametrize("path", BROKEN_FILES, ids=[path.stem for path in BROKEN_FILES])
def test_broken_flow_is_rejected(path: Path) -> None:
    expected = _expected(path)
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    message = str(caught.value)
    assert message.startswith(f"{path.name}: "), message
    assert expected in message
    assert caught.value.source == path.name
    node = re.match(r"node '([^']+)'", expected)
    assert caught.value.node == (node[1] if node else None)


def test_missing_top_level_keys_are_each_named() -> None:
    full = {"flow": "f", "report_kind": "distress", "start": "a", "nodes": {"a": {"end": True}}}
    assert parse_flow(full, source="ok.yaml").start == "a"
    for key in full:
        data = {k: v for k, v in full.items() if k != key}
        with pytest.raises(FlowError, match=f"^gone.yaml: missing top-level key '{key}'$"):
            parse_flow(data, source="gone.yaml")


def _one_option_flow(node: str, value: str) -> dict[str, object]:
    return {
        "flow": "f",
        "report_kind": "distress",
        "start": node,
        "nodes": {
            node: {"ask": "?", "expect": "choices", "save": "needs", "options": {value: "L"}, "next": "end"},
            "end": {"end": True},
        },
    }


def test_button_data_limit_counts_bytes_not_characters() -> None:
    fits = "в" * ((MAX_BUTTON_DATA - len("a:n:")) // 2)
    assert parse_flow(_one_option_flow("n", fits), source="fits.yaml").node("n").options[0].value == fits
    with pytest.raises(FlowError, match="longer than 64 bytes"):
        parse_flow(_one_option_flow("n", fits + "x"), source="long.yaml")


def test_button_data_limit_covers_the_whole_callback_data() -> None:
    value = "v" * (MAX_BUTTON_DATA - len("n:"))  # "n:vvv…" fits, but the real data "a:n:vvv…" is 66 bytes
    assert len(f"a:n:{value}".encode()) > MAX_BUTTON_DATA
    with pytest.raises(FlowError):
        parse_flow(_one_option_flow("n", value), source="long.yaml")


# --------------------------------------------------------------------------- the shipped flow


def test_distress_flow_loads() -> None:
    flow = load_builtin("distress")
    assert flow.name == "distress"
    assert flow.start == "location"
    assert any(node.end for node in flow.nodes.values())


_MERMAID_ID = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(?=[\[\(\{>]|-->|-\.|==>|---|$)")
_MERMAID_TARGET = re.compile(r"(?:-->|-\.->|\.->|==>|---)\s*(?:\|[^|]*\|\s*)?([A-Za-z_]\w*)")
_MERMAID_KEYWORDS = {"flowchart", "graph", "subgraph", "end", "classDef", "class", "style", "linkStyle", "click"}
# The diagram's entry marker stands for "the person's first message"; it is not a flow node.
_MERMAID_PSEUDO = {"start"}


def mermaid_nodes(text: str) -> set[str]:
    """Return the node ids of a mermaid flowchart: the first id of each line and every link target."""
    ids: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("%%", 1)[0]
        line = re.sub(r"\[[^\]]*\]|\(\([^)]*\)\)|\([^)]*\)|\{[^}]*\}", "", line)  # drop labels, they hold prose
        if not line.strip():
            continue
        first = _MERMAID_ID.match(line)
        if first:
            ids.add(first[1])
        ids.update(_MERMAID_TARGET.findall(line))
    return ids - _MERMAID_KEYWORDS - _MERMAID_PSEUDO


def test_mermaid_parser_reads_ids_not_labels() -> None:
    text = "flowchart TD\n  a[a: x --> y] -->|yes| b\n  b((b: end)) -.-> a\n  %% c --> d\n"
    assert mermaid_nodes(text) == {"a", "b"}


@pytest.mark.parametrize("name", sorted(load_flows().flows))
def test_every_flow_has_a_diagram_that_matches_it(name: str) -> None:
    flow = load_builtin(name)
    diagram = (resources.files("hotline.flows") / f"{name}.mmd").read_text(encoding="utf-8")
    drawn = {node for node in mermaid_nodes(diagram) if not node.startswith("flow_")}  # other flows
    assert sorted(drawn - set(flow.nodes)) == [], f"nodes in {name}.mmd that the flow does not have"
    assert sorted(set(flow.nodes) - drawn) == [], f"flow nodes missing from {name}.mmd"
    assert {f"flow_{other}" for other in flow.flows_named()} <= mermaid_nodes(diagram)
