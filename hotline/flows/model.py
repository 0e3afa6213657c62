"""Flow definitions: YAML files loaded into frozen dataclasses and checked before anything runs.

A flow is a set of named nodes. A node says something, may ask for one kind of answer (``expect``),
saves the answer under a report field (``save``) and names the next node (``next``: a node name, or
a mapping from an answer such as ``yes`` to a node with ``default`` as the fallback). A node with
``end: true`` closes the flow. ``next`` may also name another flow as ``flow:<name>``: the
conversation goes on there. Text is English source; it is translated when it is sent.

All flow files of a directory form a ``FlowSet``; the ``menu`` flow is where a conversation starts.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

EXPECTS = ("location", "count", "yes_no", "text", "choices", "choice", "code", "media")
FIELDS = (
    "location",
    "people.total",
    "people.children",
    "people.pregnant",
    "medical.emergency",
    "medical.details",
    "medical.flags",
    "asylum_intent",
    "needs",
    "case",  # a case looked up by its code: the host keeps it in the conversation, never in a report
    "case.note",  # information added to that case
)
OPEN_GROUPS = ("details", "reporter")  # free keys: details.last_contact, reporter.name…
REPORTERS = ("person", "relative", "resident")
KEYBOARDS = ("share_location", "location_or_battery")
FLOW_KEYS = {"flow", "report_kind", "start", "nodes", "reported_by", "extract", "jump_to", "shortcuts"}
NODE_KEYS = {
    "say", "ask", "sms_say", "sms_ask", "expect", "save", "next", "options", "keyboard", "end", "optional",
    "evidence",
}  # fmt: skip
PLACEHOLDERS = {"reference", "ngo_name", "ngo_phone", "case", "case_status", "case_updated"}
MAX_BUTTON_DATA = 64
FLOW_PREFIX = "flow:"
ENTRY = "menu"
_KEY = re.compile(r"[a-z][a-z_]{0,30}")


NOT_FLOWS = ("escalation",)  # YAML files beside the flows that are not conversations


def N_(text: str) -> str:
    """Mark a source text for the message catalogue; it is translated when it is sent."""
    return text


class FlowError(ValueError):
    """A flow file is broken; the message names the file and the node."""

    def __init__(self, source: str, node: str | None, problem: str) -> None:
        where = f"{source}: node {node!r}" if node else source
        super().__init__(f"{where}: {problem}")
        self.source, self.node, self.problem = source, node, problem


@dataclass(frozen=True)
class Option:
    """One answer offered as a button or a numbered line."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()  # the label in the person's language, filled in by the host


@dataclass(frozen=True)
class Node:
    """One step of a flow."""

    name: str
    say: str | None = None
    ask: str | None = None
    sms_say: str | None = None  # shorter forms for SMS, where every 70 or 160 characters cost a message
    sms_ask: str | None = None
    expect: str | None = None
    save: str | None = None
    next: dict[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    keyboard: str | None = None
    end: bool = False
    optional: bool = True
    evidence: bool = False  # keep the answer verbatim, with its time and language, as evidence

    def next_for(self, answer: str | None) -> str | None:
        """Return the node that follows an answer."""
        return self.next.get(answer or "", self.next.get("default"))


@dataclass(frozen=True)
class Flow:
    """A validated flow."""

    name: str
    report_kind: str
    start: str
    nodes: dict[str, Node]
    source: str = "<memory>"
    words: dict[str, frozenset[str]] = field(default_factory=dict)  # extra "human"/"done" words, per language
    reported_by: str | None = None  # who a report of this flow comes from: person, relative or resident
    extract: bool = False  # read every fact from a free-text first message and ask only for the rest
    jump_to: str | None = None  # a message that already reads as a distress report goes straight to this flow
    shortcuts: dict[str, str] = field(default_factory=dict)  # a word (such as "battery") -> the node it leads to

    def node(self, name: str) -> Node:
        """Return a node by name."""
        return self.nodes[name]

    def flows_named(self) -> set[str]:
        """Return the other flows this one leads to."""
        targets = {t for node in self.nodes.values() for t in node.next.values() if t.startswith(FLOW_PREFIX)}
        return {t.removeprefix(FLOW_PREFIX) for t in targets} | ({self.jump_to} if self.jump_to else set())


@dataclass(frozen=True)
class FlowSet:
    """Every flow of the hotline; a conversation starts in ``entry`` and may move between them."""

    flows: dict[str, Flow]
    entry: str = ENTRY

    def get(self, name: str | None) -> Flow:
        """Return a flow by name, or the entry flow for an unknown name."""
        return self.flows.get(name or "", self.flows[self.entry])


def load_flow(path: Path) -> Flow:
    """Read and validate one flow file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(path.name, None, f"not valid YAML ({exc.__class__.__name__})") from exc
    return parse_flow(data, source=path.name)


def load_builtin(name: str) -> Flow:
    """Load a flow shipped with the package, by name."""
    return load_flow(Path(str(resources.files("hotline.flows") / f"{name}.yaml")))


def load_flows(directory: Path | None = None) -> FlowSet:
    """Load every flow file of a directory (the package's by default) and check they lead to each other."""
    folder = directory or Path(str(resources.files("hotline.flows")))
    flows = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.stem in NOT_FLOWS:
            continue
        flow = load_flow(path)
        flows[flow.name] = flow
    return make_set(flows, source=str(folder))


def make_set(flows: dict[str, Flow], *, source: str, entry: str = ENTRY) -> FlowSet:
    """Build a flow set, raising ``FlowError`` when a flow leads to one that does not exist."""
    if entry not in flows:
        raise FlowError(source, None, f"there is no {entry!r} flow to start in")
    for flow in flows.values():
        missing = sorted(flow.flows_named() - set(flows))
        if missing:
            raise FlowError(flow.source, None, f"leads to a flow that does not exist: {missing[0]!r}")
    return FlowSet(flows, entry)


def parse_flow(data: Any, *, source: str) -> Flow:
    """Build a flow from parsed YAML, raising ``FlowError`` for the first problem found."""
    if not isinstance(data, dict):
        raise FlowError(source, None, "the file must be a mapping")
    for key in ("flow", "report_kind", "start", "nodes"):
        if key not in data:
            raise FlowError(source, None, f"missing top-level key {key!r}")
    unknown = set(data) - FLOW_KEYS
    if unknown:
        raise FlowError(source, None, f"unknown top-level keys {sorted(map(str, unknown))}")
    raw_nodes = data["nodes"]
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise FlowError(source, None, "'nodes' must be a non-empty mapping")
    nodes = {name: _parse_node(source, str(name), raw) for name, raw in raw_nodes.items()}
    flow = Flow(
        str(data["flow"]), str(data["report_kind"]), str(data["start"]), nodes, source,
        reported_by=data.get("reported_by"), extract=data.get("extract") is True, jump_to=data.get("jump_to"),
        shortcuts=_parse_shortcuts(source, data.get("shortcuts")),
    )  # fmt: skip
    if flow.reported_by is not None and flow.reported_by not in REPORTERS:
        raise FlowError(source, None, f"'reported_by' must be one of {', '.join(REPORTERS)}")
    _check_graph(flow)
    return flow


def _parse_shortcuts(source: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise FlowError(source, None, "'shortcuts' must map words to node names")
    return dict(raw)


def _parse_node(source: str, name: str, raw: Any) -> Node:
    if not isinstance(raw, dict):
        raise FlowError(source, name, "a node must be a mapping")
    unknown = set(raw) - NODE_KEYS
    if unknown:
        raise FlowError(source, name, f"unknown keys {sorted(map(str, unknown))}")
    for flag in ("end", "optional", "evidence"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise FlowError(source, name, f"{flag!r} must be true or false")
    node = Node(
        name=name,
        say=raw.get("say"),
        ask=raw.get("ask"),
        sms_say=raw.get("sms_say"),
        sms_ask=raw.get("sms_ask"),
        expect=raw.get("expect"),
        save=raw.get("save"),
        next=_parse_next(source, name, raw.get("next")),
        options=_parse_options(source, name, raw.get("options")),
        keyboard=raw.get("keyboard"),
        end=bool(raw.get("end", False)),
        optional=bool(raw.get("optional", True)),
        evidence=bool(raw.get("evidence", False)),
    )
    _check_node(source, node)
    return node


def _parse_next(source: str, name: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"default": raw}
    if isinstance(raw, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        if "default" not in raw:
            raise FlowError(source, name, "a 'next' mapping needs a 'default' entry")
        return dict(raw)
    raise FlowError(source, name, "'next' must be a node name or a mapping of quoted answers to node names")


def _parse_options(source: str, name: str, raw: Any) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise FlowError(source, name, "'options' must map values to labels")
    for value in raw:
        if len(f"a:{name}:{value}".encode()) > MAX_BUTTON_DATA:  # the data replies.py puts on the button
            raise FlowError(source, name, f"option {value!r} makes button data longer than {MAX_BUTTON_DATA} bytes")
    return tuple(Option(str(value), label) for value, label in raw.items())


def _check_node(source: str, node: Node) -> None:
    if node.expect is not None and node.expect not in EXPECTS:
        raise FlowError(source, node.name, f"unknown expect {node.expect!r}; use one of {', '.join(EXPECTS)}")
    if node.expect and not node.ask:
        raise FlowError(source, node.name, "a node that expects an answer needs an 'ask' text")
    if node.save is not None and not is_field(node.save):
        raise FlowError(source, node.name, f"cannot save into unknown field {node.save!r}")
    if node.expect in ("choices", "choice") and not node.options:
        raise FlowError(source, node.name, f"{node.expect!r} needs 'options'")
    if node.keyboard is not None and node.keyboard not in KEYBOARDS:
        raise FlowError(source, node.name, f"unknown keyboard {node.keyboard!r}")
    if node.end and node.next:
        raise FlowError(source, node.name, "an end node cannot have 'next'")
    if not node.end and not node.next:
        raise FlowError(source, node.name, "a node needs 'next' or 'end: true'")
    for text in (node.say, node.ask, node.sms_say, node.sms_ask):
        _check_placeholders(source, node.name, text)
    if (node.sms_say and not node.say) or (node.sms_ask and not node.ask):
        raise FlowError(source, node.name, "an SMS form needs the text it shortens ('say' or 'ask')")


def is_field(name: str) -> bool:
    """Tell whether a flow may save into a report field of this name."""
    group, _, key = name.partition(".")
    return name in FIELDS or (group in OPEN_GROUPS and _KEY.fullmatch(key) is not None)


def _check_placeholders(source: str, name: str, text: str | None) -> None:
    if text is None:
        return
    if not isinstance(text, str):
        raise FlowError(source, name, "texts must be strings")
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:
        raise FlowError(source, name, f"broken placeholder in text ({exc})") from exc
    unknown = used - PLACEHOLDERS
    if unknown:
        raise FlowError(source, name, f"unknown placeholders {sorted(unknown)}")


def _check_graph(flow: Flow) -> None:
    if flow.start not in flow.nodes:
        raise FlowError(flow.source, None, f"start node {flow.start!r} does not exist")
    for node in flow.nodes.values():
        for target in node.next.values():
            if target not in flow.nodes and not target.startswith(FLOW_PREFIX):
                raise FlowError(flow.source, node.name, f"'next' points to missing node {target!r}")
    for word, target in flow.shortcuts.items():
        if target not in flow.nodes:
            raise FlowError(flow.source, None, f"shortcut {word!r} points to missing node {target!r}")
    reachable = _reachable(flow)
    unreachable = sorted(set(flow.nodes) - reachable)
    if unreachable:
        raise FlowError(flow.source, unreachable[0], "node cannot be reached from the start")
    leaves = any(t.startswith(FLOW_PREFIX) for name in reachable for t in flow.nodes[name].next.values())
    if not leaves and not any(flow.nodes[name].end for name in reachable):
        raise FlowError(flow.source, None, "the flow has no end node")
    _check_say_loops(flow)


def _check_say_loops(flow: Flow) -> None:
    """Refuse a cycle of nodes that only talk: it would never wait for the person."""
    for start in flow.nodes:
        seen: set[str] = set()
        name: str | None = start
        while name is not None and name in flow.nodes and not _waits(flow.nodes[name]):
            if name in seen:
                raise FlowError(flow.source, name, "nodes that only talk lead back to themselves")
            seen.add(name)
            name = flow.nodes[name].next.get("default")


def _waits(node: Node) -> bool:
    return node.end or node.expect is not None


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start, *flow.shortcuts.values()]
    while todo:
        name = todo.pop()
        if name not in seen and name in flow.nodes:
            seen.add(name)
            todo.extend(flow.nodes[name].next.values())
    return seen
