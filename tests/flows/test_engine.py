"""Tests for hotline.flows.engine: golden transcripts kept as data, property tests, and import hygiene.

Each file in ``tests/flows/transcripts`` is a list of steps::

    - in: {text: "help 54.32 24.11"}   # or {start: true}, {pin: [54.1, 24.2]}, {button: "a:pregnant:yes"}
      say: ["How many people"]       # fragments found in this step's Say texts, in order ([] = no Say)
      saves: {people.total: 5}       # the exact Save effects of this step (omitted = none)
      notes: [first_message]         # the exact Note fields, or a mapping field -> exact text (omitted = none)
      effects: [Toast, Handoff]      # the other effects (Toast, Handoff, Ended) in order (omitted = none)
      toasts: ["Added: Water"]       # optional: fragments of Toast texts (params filled in), in order
      node: people                   # the state's node after this step

Location saves compare only the keys written in the transcript (at least lat, lon, source) and check
that ``received_at`` is the fixed clock's time.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.flows import engine
from hotline.flows.engine import Button, Ended, Event, Handoff, Location, Note, Save, Say, Start, Text, Toast, step
from hotline.flows.model import FIELDS, Flow, is_field, load_builtin, load_flows

NOW = datetime(2025, 1, 15, 3, 30, tzinfo=UTC)
TRANSCRIPTS = Path(__file__).parent / "transcripts"
TRANSCRIPT_FILES = sorted(TRANSCRIPTS.glob("*.yaml"))
STEP_KEYS = {"in", "say", "saves", "notes", "effects", "toasts", "node"}
OTHER_EFFECTS = (Toast, Handoff, Ended)


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_builtin("distress")


def to_event(raw: dict[str, Any]) -> Event:
    """Turn a transcript's ``in`` mapping into an engine event."""
    assert len(raw) == 1, f"one event per step: {raw}"
    ((kind, value),) = raw.items()
    if kind == "start":
        return Start()
    if kind == "text":
        return Text(str(value))
    if kind == "pin":
        lat, lon = value
        return Location(float(lat), float(lon))
    if kind == "button":
        return Button(str(value))
    raise AssertionError(f"unknown event {kind!r}")


def _in_order(fragments: list[str], texts: list[str], what: str) -> None:
    position = 0
    for fragment in fragments:
        found = next((i for i in range(position, len(texts)) if fragment in texts[i]), None)
        assert found is not None, f"{what} {fragment!r} not found in order in {texts[position:]}"
        position = found


def _check_saves(expected: dict[str, Any], saves: list[Save]) -> None:
    got = {save.field: save.value for save in saves}
    assert len(got) == len(saves), f"a field is saved twice in one step: {saves}"
    assert sorted(got) == sorted(expected), f"saved fields {sorted(got)} != {sorted(expected)}"
    for name, want in expected.items():
        value = got[name]
        if name == "location":
            assert {"lat", "lon", "source"} <= set(want), "a location save must name lat, lon and source"
            assert value["received_at"] == NOW.isoformat()
            assert {key: value.get(key) for key in want} == want, f"location {value} != {want}"
        else:
            assert value == want, f"{name}: saved {value!r}, expected {want!r}"


def _check_notes(expected: list[str] | dict[str, str], notes: list[Note]) -> None:
    if isinstance(expected, dict):
        got = {note.field: note.text for note in notes}
        assert got == expected and len(notes) == len(expected), f"notes {notes} != {expected}"
    else:
        assert [note.field for note in notes] == expected, f"notes {notes} != {expected}"


def check_step(number: int, spec: dict[str, Any], effects: list[Any], state: dict[str, Any]) -> None:
    """Compare one step's effects and state with the transcript."""
    where = f"step {number} ({spec['in']})"
    try:
        if "say" in spec:
            says = [effect.text for effect in effects if isinstance(effect, Say)]
            if spec["say"]:
                _in_order(spec["say"], says, "Say")
            else:
                assert says == [], f"no Say expected, got {says}"
        _check_saves(spec.get("saves") or {}, [effect for effect in effects if isinstance(effect, Save)])
        _check_notes(spec.get("notes") or [], [effect for effect in effects if isinstance(effect, Note)])
        others = [type(effect).__name__ for effect in effects if isinstance(effect, OTHER_EFFECTS)]
        assert others == (spec.get("effects") or []), f"effects {others}"
        if "toasts" in spec:
            toasts = [effect.text.format(**effect.params) for effect in effects if isinstance(effect, Toast)]
            _in_order(spec["toasts"], toasts, "Toast")
        assert state["node"] == spec["node"], f"node {state['node']!r}"
    except AssertionError as exc:
        raise AssertionError(f"{where}: {exc}\n  effects: {effects}") from exc


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPT_FILES) >= 15


@pytest.mark.parametrize("path", TRANSCRIPT_FILES, ids=[path.stem for path in TRANSCRIPT_FILES])
def test_transcript(path: Path, flow: Flow) -> None:
    steps = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(steps, list) and steps, "a transcript is a non-empty list of steps"
    state = engine.new_state(flow)
    for number, spec in enumerate(steps, 1):
        assert set(spec) <= STEP_KEYS, f"step {number}: unknown keys {sorted(set(spec) - STEP_KEYS)}"
        assert {"in", "node"} <= set(spec), f"step {number}: 'in' and 'node' are required"
        state, effects = step(flow, state, to_event(spec["in"]), NOW)
        check_step(number, spec, effects, state)
        state = json.loads(json.dumps(state))  # the host stores the state as JSON between messages


def test_step_does_not_mutate_the_given_state(flow: Flow) -> None:
    state = engine.new_state(flow)
    state, _ = step(flow, state, Start(), NOW)
    state, _ = step(flow, state, Location(54.1, 24.2), NOW)
    state, _ = step(flow, state, Text("5"), NOW)
    state, _ = step(flow, state, Text("0"), NOW)
    state, _ = step(flow, state, Button("a:pregnant:no"), NOW)
    state, _ = step(flow, state, Button("a:medical:no"), NOW)
    state, _ = step(flow, state, Button("a:asylum:yes"), NOW)
    state, _ = step(flow, state, Button("a:needs:water"), NOW)
    before = json.dumps(state, sort_keys=True)
    after, _ = step(flow, state, Button("a:needs:food"), NOW)
    assert json.dumps(state, sort_keys=True) == before
    assert after["picked"] == ["water", "food"]


def test_late_choice_button_keeps_earlier_needs(flow: Flow) -> None:
    state = engine.new_state(flow)
    for event in (Start(), Location(54.1, 24.2), Text("5"), Text("0"), Text("no"), Text("no"), Text("yes")):
        state, _ = step(flow, state, event, NOW)
    state, effects = step(flow, state, Text("water and food"), NOW)
    assert Save("needs", ["water", "food"]) in effects and state["ended"]
    state, effects = step(flow, state, Button("a:needs:shoes"), NOW)  # an old message's button, pressed later
    assert [effect for effect in effects if isinstance(effect, Save)] == [Save("needs", ["shoes"], merge=True)]


def test_written_coordinates_after_the_end_update_the_location(flow: Flow) -> None:
    state = engine.new_state(flow)
    for event in (Start(), Location(54.1, 24.2), *[Text("skip")] * 6):
        state, _ = step(flow, state, event, NOW)
    assert state["ended"]
    state, effects = step(flow, state, Text("we moved: 54.3012 24.1187"), NOW)
    assert [effect.field for effect in effects if isinstance(effect, Save)] == ["location"]


# --------------------------------------------------------------------------- properties


def _valid_buttons(flow: Flow) -> list[str]:
    data = ["h", "h:", "d:", "a:", "a::"]
    for node in flow.nodes.values():
        data.append(f"d:{node.name}")
        if node.expect == "yes_no":
            data += [f"a:{node.name}:{value}" for value in ("yes", "no", "unknown")]
        data += [f"a:{node.name}:{option.value}" for option in node.options]
    return data


FLOW = load_builtin("distress")
SAMPLE_TEXTS = [
    "",
    " ",
    "5",
    "0",
    "٧",
    "۳",
    "none",
    "yes",
    "no",
    "don't know",
    "skip",
    "/skip",
    "done",
    "1 3",
    "7 9 0",
    "water and power bank",
    "talk to a person",
    "/human",
    "54.32 24.11",
    "help 54.32 24.11",
    "22.11 23.11",
    "0.00 0.00",
    "geo:54.1,24.2",
    "https://maps.google.com/?q=54.1,24.2",
    "x",
    "lots",
    "help us",
]
events = st.one_of(
    st.just(Start()),
    st.builds(Text, st.text()),
    st.builds(Text, st.sampled_from(SAMPLE_TEXTS)),
    st.builds(
        Location,
        st.floats(min_value=-90, max_value=90),
        st.floats(min_value=-180, max_value=180),
        st.sampled_from(["pin", "live", "text"]),
    ),
    st.builds(Button, st.text(max_size=70)),
    st.builds(Button, st.sampled_from(_valid_buttons(FLOW))),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=30))
def test_any_events_keep_the_state_sound(sequence: list[Event]) -> None:
    state = engine.new_state(FLOW)
    ended = False
    for event in sequence:
        state, effects = step(FLOW, state, event, NOW)
        state = json.loads(json.dumps(state))
        assert state["node"] in FLOW.nodes
        assert state["ended"] or not ended, "a flow that ended cannot start again"
        ended = state["ended"]
        for effect in effects:
            assert isinstance(effect, Say | Toast | Save | Note | Handoff | Ended)
            if isinstance(effect, Save):
                assert effect.field in FIELDS
            if isinstance(effect, Say | Toast):
                assert isinstance(effect.text, str) and effect.text


FLOWS = load_flows()
ALL_BUTTONS = sorted(
    {f"a:{name}:{o.value}" for f in FLOWS.flows.values() for name, n in f.nodes.items() for o in n.options}
    | {f"a:{name}:{v}" for f in FLOWS.flows.values() for name in f.nodes for v in ("yes", "no", "unknown")}
    | {f"d:{name}" for f in FLOWS.flows.values() for name in f.nodes}
)
set_events = st.one_of(
    events,
    st.builds(Button, st.sampled_from(ALL_BUTTONS)),
    st.builds(Text, st.sampled_from(["menu", "battery", "skip", "1", "3", "7", "0", "K7M-4PX"])),
    st.builds(engine.CodeResult, st.sampled_from(["K7M-4PX", "zz"]), st.booleans(), st.booleans()),
    st.just(engine.Media()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(set_events, max_size=30))
def test_any_events_across_every_flow_keep_the_state_sound(sequence: list[Event]) -> None:
    state: dict[str, Any] = {}
    for event in sequence:
        state, effects = engine.run(FLOWS, state, event, NOW)
        state = json.loads(json.dumps(state))
        flow = FLOWS.flows[state["flow"]]
        assert state["node"] in flow.nodes
        for effect in effects:
            if isinstance(effect, Save):
                assert is_field(effect.field)
            if isinstance(effect, engine.Switch):
                assert effect.flow in FLOWS.flows
            if isinstance(effect, Say | Toast):
                assert isinstance(effect.text, str) and effect.text


def test_a_pin_written_into_the_menu_goes_straight_to_distress() -> None:
    state, effects = engine.run(FLOWS, {}, Location(54.5, 25.1), NOW)
    assert state["flow"] == "distress" and state["node"] == "people"
    assert [e.flow for e in effects if isinstance(e, engine.Switch)] == ["distress"]
    assert not any(isinstance(e, Say) and e.node == "choose" for e in effects)


def test_menu_at_any_time_brings_the_choices_back() -> None:
    state, _ = engine.run(FLOWS, {}, Button("a:choose:rights"), NOW)
    assert state["flow"] == "rights"
    state, effects = engine.run(FLOWS, state, Text("Menu!"), NOW)
    assert state["flow"] == "menu" and any(isinstance(e, Say) and e.node == "choose" for e in effects)


def test_battery_leaves_only_location_and_head_count() -> None:
    state, _ = engine.run(FLOWS, {}, Button("a:choose:distress"), NOW)
    state, _ = engine.run(FLOWS, state, Text("battery"), NOW)
    assert state["node"] == "low_location"
    state, _ = engine.run(FLOWS, state, Location(54.5, 25.1), NOW)
    assert state["node"] == "low_people"
    state, _ = engine.run(FLOWS, state, Text("6"), NOW)
    assert state["ended"] and state["node"] == "low_done"


def test_a_known_location_is_not_asked_again_on_the_low_battery_path() -> None:
    state, _ = engine.run(FLOWS, {}, Location(54.5, 25.1), NOW)
    state, effects = engine.run(FLOWS, state, Text("battery"), NOW)
    assert state["node"] == "low_people"
    assert not any(isinstance(e, Say) and e.node == "low_location" for e in effects)


def test_a_wrong_code_is_asked_again_then_the_flow_ends_without_a_case() -> None:
    state, _ = engine.run(FLOWS, {}, Button("a:choose:status"), NOW)
    state, effects = engine.run(FLOWS, state, engine.CodeResult("QQQ-QQQ", found=False), NOW)
    assert state["node"] == "code" and any(isinstance(e, Say) and "no case" in e.text for e in effects)
    state, effects = engine.run(FLOWS, state, engine.CodeResult("QQQ-QQQ", found=False), NOW)
    assert state["node"] == "not_found" and "case" not in state
    state, _ = engine.run(FLOWS, {}, Button("a:choose:status"), NOW)
    state, effects = engine.run(FLOWS, state, engine.CodeResult("K7M-4PX", found=True), NOW)
    assert state["node"] == "add" and state["case"] == "K7M-4PX"
    state, effects = engine.run(FLOWS, state, Text("he called us today"), NOW)
    assert [e for e in effects if isinstance(e, Save)] == [Save("case.note", "he called us today")]


def test_the_pushback_story_is_saved_as_evidence() -> None:
    state, _ = engine.run(FLOWS, {}, Button("a:choose:pushback"), NOW)
    state, effects = engine.run(FLOWS, state, Button("a:danger:no"), NOW)
    state, effects = engine.run(FLOWS, state, Text("They took our phones at night."), NOW)
    assert Save("details.story", "They took our phones at night.", evidence=True) in effects


# --------------------------------------------------------------------------- import hygiene

FORBIDDEN = ("telegram", "twilio", "fastapi", "sqlmodel", "sqlalchemy", "hotline.bot", "hotline.storage", "hotline.api")


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN)


def test_engine_imports_no_channel_storage_or_web_code() -> None:
    code = "import json, sys; import hotline.flows.engine; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded = json.loads(result.stdout)
    assert "hotline.flows.engine" in loaded
    assert [module for module in loaded if _forbidden(module)] == []


def test_engine_source_names_no_forbidden_import() -> None:
    tree = ast.parse(Path(engine.__file__).read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert imported
    assert [module for module in imported if _forbidden(module)] == []
