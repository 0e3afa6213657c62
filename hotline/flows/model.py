"""Flow definitions: YAML files loaded into frozen dataclasses and checked before anything runs.

A flow is a set of named nodes. A node says something, may ask for one kind of answer (``expect``),
saves the answer under a report field (``save``) and names the next node (``next``: a node name, or
a mapping from an answer such as ``yes`` to a node with ``default`` as the fallback). A node with
``end: true`` closes the flow. Text is English source; it is translated when it is sent.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

EXPECTS = ("location", "count", "yes_no", "text", "choices")
FIELDS = (
    "location",
    "people.total",
    "people.children",
    "people.pregnant",
    "medical.emergency",
    "medical.details",
    "asylum_intent",
    "needs",
)
KEYBOARDS = ("share_location",)
NODE_KEYS = {"say", "ask", "sms_say", "sms_ask", "expect", "save", "next", "options", "keyboard", "end", "optional"}
PLACEHOLDERS = {"reference", "ngo_name", "ngo_phone"}
MAX_BUTTON_DATA = 64


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

    def node(self, name: str) -> Node:
        """Return a node by name."""
        return self.nodes[name]


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


def parse_flow(data: Any, *, source: str) -> Flow:
    """Build a flow from parsed YAML, raising ``FlowError`` for the first problem found."""
    if not isinstance(data, dict):
        raise FlowError(source, None, "the file must be a mapping")
    for key in ("flow", "report_kind", "start", "nodes"):
        if key not in data:
            raise FlowError(source, None, f"missing top-level key {key!r}")
    raw_nodes = data["nodes"]
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise FlowError(source, None, "'nodes' must be a non-empty mapping")
    nodes = {name: _parse_node(source, str(name), raw) for name, raw in raw_nodes.items()}
    flow = Flow(str(data["flow"]), str(data["report_kind"]), str(data["start"]), nodes, source)
    _check_graph(flow)
    return flow


def _parse_node(source: str, name: str, raw: Any) -> Node:
    if not isinstance(raw, dict):
        raise FlowError(source, name, "a node must be a mapping")
    unknown = set(raw) - NODE_KEYS
    if unknown:
        raise FlowError(source, name, f"unknown keys {sorted(map(str, unknown))}")
    for flag in ("end", "optional"):
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
    if node.save is not None and node.save not in FIELDS:
        raise FlowError(source, node.name, f"cannot save into unknown field {node.save!r}")
    if node.expect == "choices" and not node.options:
        raise FlowError(source, node.name, "'choices' needs 'options'")
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
            if target not in flow.nodes:
                raise FlowError(flow.source, node.name, f"'next' points to missing node {target!r}")
    reachable = _reachable(flow)
    unreachable = sorted(set(flow.nodes) - reachable)
    if unreachable:
        raise FlowError(flow.source, unreachable[0], "node cannot be reached from the start")
    if not any(flow.nodes[name].end for name in reachable):
        raise FlowError(flow.source, None, "the flow has no end node")


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(flow.nodes[name].next.values())
    return seen
