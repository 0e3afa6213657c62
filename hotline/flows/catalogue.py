"""Babel extraction for flow files: every ``say``, ``ask``, their SMS forms and every option label.

Used by ``scripts/extract-messages`` (see ``babel.cfg``) so the catalogue template holds the texts
of the code and of the flows alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

Extracted = tuple[int, str | None, str, list[str]]
SMS_COMMENT = "SMS form: keep it as short as the English (1 SMS in Latin script, 2 in others)"


def extract_flow(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Extracted]:
    """Yield ``(line, function, message, comments)`` for every text of one flow file."""
    document = yaml.compose(fileobj.read().decode("utf-8"))
    if not isinstance(document, yaml.MappingNode):
        return
    top = {key.value: value for key, value in document.value}
    flow = getattr(top.get("flow"), "value", "?")
    nodes = top.get("nodes")
    if not isinstance(nodes, yaml.MappingNode):
        return
    for name, node in nodes.value:
        yield from _node_texts(flow, name.value, node)


def _node_texts(flow: str, node_name: str, node: yaml.Node) -> Iterator[Extracted]:
    if not isinstance(node, yaml.MappingNode):
        return
    comment = [f"flow {flow}, node {node_name}"]
    for key, value in node.value:
        if key.value in ("say", "ask") and isinstance(value, yaml.ScalarNode):
            yield value.start_mark.line + 1, None, value.value, comment
        if key.value in ("sms_say", "sms_ask") and isinstance(value, yaml.ScalarNode):
            yield value.start_mark.line + 1, None, value.value, [*comment, SMS_COMMENT]
        if key.value == "options" and isinstance(value, yaml.MappingNode):
            for option, label in value.value:
                yield label.start_mark.line + 1, None, label.value, [*comment, f"option {option.value}"]
