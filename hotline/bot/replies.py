"""Turning the engine's ``Say`` effects into one translated outgoing message body.

The texts of one step go out as a single message: fewer messages cost less battery, less money
on SMS and stay inside Telegram's one-message-per-second limit.
"""

from __future__ import annotations

from typing import Any

from hotline.bot.channels.base import Button, Outgoing
from hotline.bot.i18n import translate
from hotline.flows.engine import Say
from hotline.flows.model import N_

HUMAN_BUTTON = N_("Talk to a person")
DONE_BUTTON = N_("Done")
SEND_LOCATION = N_("Send my location")
BATTERY_BUTTON = N_("My battery is low")
BATTERY_WORD = N_("battery")  # written instead of pressing the button: only location and head count are asked
MENU_BUTTON = N_("menu")  # written at any time: back to the first choices
SKIP_WORD = N_("skip")  # written to leave a question unanswered


def reply_body(
    says: list[Say], params: dict[str, Any], *, choices_node: str | None = None, sms: bool = False
) -> dict[str, Any]:
    """Join the texts of one step and attach the last question's buttons (on SMS: its options, to be numbered)."""
    separator = "\n" if sms else "\n\n"
    text = separator.join(translate(say.sms if sms and say.sms else say.text, **params) for say in says)
    question = next((say for say in reversed(says) if say.options or say.keyboard), None)
    body: dict[str, Any] = {"text": text, "buttons": [], "request_location": None}
    if question is None:
        return body
    if sms:  # one numbered line per option; "done" and "a person" are words on SMS, not lines that cost money
        body["buttons"] = [
            [{"label": translate(o.label), "data": f"a:{question.node}:{o.value}"}] for o in question.options
        ]
        return body
    if question.keyboard in ("share_location", "location_or_battery"):
        body["request_location"] = translate(SEND_LOCATION)
        if question.keyboard == "location_or_battery":  # a reply-keyboard button: pressing it sends its label
            body["buttons"] = [[{"label": translate(BATTERY_BUTTON), "data": ""}]]
        return body
    rows = [[{"label": translate(o.label), "data": f"a:{question.node}:{o.value}"}] for o in question.options]
    if question.node == choices_node:
        rows.append([{"label": translate(DONE_BUTTON), "data": f"d:{question.node}"}])
    rows.append([{"label": translate(HUMAN_BUTTON), "data": "h"}])
    body["buttons"] = rows
    return body


def outgoing(body: dict[str, Any], *, edit_message_id: str | None = None) -> Outgoing:
    """Build the channel-level message from a stored outbox body."""
    buttons = tuple(tuple(Button(b["label"], b["data"]) for b in row) for row in body.get("buttons", []))
    location = body.get("location")
    media = body.get("media")
    return Outgoing(
        text=body.get("text", ""),
        buttons=buttons,
        request_location=body.get("request_location"),
        location=(location[0], location[1]) if location else None,
        edit_message_id=edit_message_id,
        callback_query_id=body.get("callback_query_id"),
        delete_message_ids=tuple(str(i) for i in body.get("delete_message_ids", ())),
        media=(str(media[0]), str(media[1])) if media else None,
        extra={f"call_{key}": str(value) for key, value in (body.get("call") or {}).items()},  # a page by phone
    )
