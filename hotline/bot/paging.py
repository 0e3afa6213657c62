"""What a page says, how a volunteer is reached, and the news sent to the volunteer who has a case.

When to page and whom is ``hotline.bot.oncall.escalation``'s job. A page carries no names, numbers
or coordinates (pages sit on phones and in Telegram's servers): those go only to the volunteer who
acknowledges, at that moment. Every later answer edits the Telegram page in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from hotline.bot import languages
from hotline.bot.channels.console import PAGER
from hotline.bot.i18n import V_, format_age, format_number, translate_for_volunteer, use_locale
from hotline.flows.engine import Effect, Handoff, Note, Save
from hotline.settings import Settings
from hotline.storage import outbox, reports
from hotline.storage.crypto import KeyRing
from hotline.storage.inbox import address_key
from hotline.storage.models import Incident, Message, Page, Report, Volunteer

log = logging.getLogger(__name__)

Route = tuple[str, str, str]  # channel, address, ordering key


@dataclass(frozen=True)
class Reach:
    """Which channels can reach volunteers in this deployment."""

    telegram: bool = False
    sms: bool = False
    exact_location: bool = False  # HOTLINE_PAGE_LOCATION: coordinates in the page itself


def reach_of(settings: Settings) -> Reach:
    """Return the volunteer channels the settings make available."""
    return Reach(telegram=settings.telegram_enabled, sms=settings.twilio_enabled, exact_location=settings.page_location)


MESSAGE_LIMIT = 3900  # Telegram refuses texts over 4096 characters
NOTE_IN_MESSAGE = 600
ACK_PREFIX = "ack:"
DECLINE_PREFIX = "decline:"
ACKNOWLEDGE = V_("Acknowledge")
DECLINE = V_("Decline")
SMS_ACK = V_("Reply {code} to take this case.")
MEDIA_CAPTION = V_("From case {reference}")
MEDIA_ELSEWHERE = V_("The person sent a photo or recording. It is stored with the case.")
SOURCES = {"pin": V_("pin"), "live": V_("live location"), "text": V_("written coordinates")}
TITLES = {
    "distress": V_("🆘 Distress report {reference}"), "call": V_("📞 Call to the hotline {reference}"),
    "missing": V_("🔎 Missing person, last seen in the forest {reference}"),
    "pushback": V_("⛔ Pushback report, someone still in danger {reference}"),
}  # fmt: skip
REPORTED_BY = {
    "relative": V_("👪 Reported by a relative or friend, not by the people themselves"),
    "resident": V_("🏡 Reported by a local resident who met them"),
}
SAME_GROUP = V_("🔗 Probably the same group as an earlier report (group {group}): count the people once")
ANSWERS = {"yes": V_("yes"), "no": V_("no"), "unknown": V_("not known")}  # a yes / no / don't know answer


def update_page(session: Session, *, page: Page, route: Route, body: dict[str, Any], now: datetime) -> None:
    """Edit a page to a newer text, replacing a queued edit (or the page itself) when not sent yet."""
    body = {"to": route[1], **body}
    queued = [page.message_id] if page.message_id else []
    edit = outbox.pending_edit(session, edit_of_id=page.message_id or 0)
    queued += [edit.id] if edit and edit.id else []
    for message_id in queued:  # not sent yet: the newest text replaces it instead of queueing another edit
        if outbox.replace_if_pending(session, message_id=message_id, body=body):
            return
    send_to_volunteer(session, route=route, page=page, kind="page_update", body=body, now=now, edit=True)


def send_to_volunteer(
    session: Session,
    *,
    route: Route,
    page: Page,
    kind: str,
    body: dict[str, Any],
    now: datetime,
    edit: bool = False,
) -> Message:
    """Queue a message to the volunteer of a page, about its report (``edit``: as an edit of the page)."""
    edit_of_id = page.message_id if edit else None
    return notify_volunteer(
        session, route=route, volunteer_id=page.volunteer_id, report_id=page.report_id, kind=kind, body=body,
        now=now, edit_of_id=edit_of_id,
    )  # fmt: skip


def notify_volunteer(
    session: Session,
    *,
    route: Route,
    volunteer_id: int | None,
    report_id: int | None,
    kind: str,
    body: dict[str, Any],
    now: datetime,
    edit_of_id: int | None = None,
) -> Message:
    """Queue a message to a volunteer by a route, about a report (or none)."""
    channel, address, key = route
    return outbox.enqueue(
        session, kind=kind, channel=channel, recipient_key=key, body={**body, "to": address}, now=now,
        volunteer_id=volunteer_id, report_id=report_id, edit_of_id=edit_of_id,
    )  # fmt: skip


def tell_owner(
    session: Session, *, keyring: KeyRing, report: Report, effects: list[Effect], now: datetime, reach: Reach
) -> None:
    """Send the volunteer who took a case what the person added since: a new pin, new answers, new words."""
    owner, page = _owner_page(session, report)
    if owner is None or page is None:
        return
    route = volunteer_route(keyring, owner, reach=reach)
    with use_locale(volunteer_language(owner)):
        lines = _news_lines(effects)
        saved = [e for e in effects if isinstance(e, Save) and e.field == "location"]
        if saved and route[0] == "telegram":
            pin = {"location": [saved[-1].value["lat"], saved[-1].value["lon"]]}
            send_to_volunteer(session, route=route, page=page, kind="news", body=pin, now=now)
        if lines:
            title = translate_for_volunteer(V_("News on case {reference}:"), reference=report.reference)
            body = {"text": _clip("\n".join([title, *lines])), "buttons": []}
            send_to_volunteer(session, route=route, page=page, kind="news", body=body, now=now)


def relay_media_to_owner(
    session: Session, *, keyring: KeyRing, report: Report, payload: dict[str, Any], now: datetime, reach: Reach
) -> None:
    """Pass a photo or voice note on to the volunteer who took the case (by file id on Telegram, else a notice)."""
    owner, page = _owner_page(session, report)
    if owner is None or page is None:
        return
    route = volunteer_route(keyring, owner, reach=reach)
    with use_locale(volunteer_language(owner)):
        caption = translate_for_volunteer(MEDIA_CAPTION, reference=report.reference)
        if route[0] == "telegram" and payload.get("file_id"):
            body = {"text": caption, "media": [str(payload.get("media", "document")), str(payload["file_id"])]}
        else:
            body = {"text": caption + "\n" + translate_for_volunteer(MEDIA_ELSEWHERE), "buttons": []}
        send_to_volunteer(session, route=route, page=page, kind="news", body=body, now=now)


def _owner_page(session: Session, report: Report) -> tuple[Volunteer | None, Page | None]:
    owner = session.get(Volunteer, report.acknowledged_by) if report.acknowledged_by else None
    if owner is None:
        return None, None
    query = select(Page).where(Page.report_id == report.id, Page.volunteer_id == owner.id)
    return owner, session.exec(query.order_by(col(Page.id).desc())).first()


def _news_lines(effects: list[Effect]) -> list[str]:
    t = translate_for_volunteer
    lines = []
    for effect in effects:
        if isinstance(effect, Save) and effect.field == "location":
            value = effect.value
            lines.append(
                t(
                    V_("New location: {lat:.6f}, {lon:.6f} ({source})"),
                    lat=value["lat"],
                    lon=value["lon"],
                    source=value.get("source", "pin"),
                )
            )
        elif isinstance(effect, Save):
            lines.append(f"{effect.field}: {effect.value}")
        elif isinstance(effect, Note):
            lines.append(
                t(V_("Their words ({field}): {text}"), field=effect.field, text=_clip(effect.text, NOTE_IN_MESSAGE))
            )
        elif isinstance(effect, Handoff):
            lines.append(t(V_("🙋 Asked to talk to a person")))
    return lines


def _clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def volunteer_language(volunteer: Volunteer) -> str:
    """Return the first of a volunteer's languages that volunteer texts exist in."""
    spoken = [code.strip() for code in (volunteer.languages or "").split(",")]
    return next((code for code in spoken if code in languages.VOLUNTEER_CODES), "en")


def volunteer_route(keyring: KeyRing, volunteer: Volunteer, *, reach: Reach, channel: str | None = None) -> Route:
    """Return the channel, address and ordering key that reach a volunteer.

    Without ``channel``: Telegram, else SMS, else the console pager. A call has an ordering key of its
    own, so a ringing phone never waits behind SMS.
    """
    chat, phone = volunteer.telegram_chat, volunteer.phone
    channel = channel or ("telegram" if reach.telegram and chat else "sms" if reach.sms and phone else PAGER)
    if channel == "telegram" and chat:
        return "telegram", str(chat), keyring.blind_index(address_key("telegram", str(chat)))
    if channel in ("sms", "call") and phone:
        return channel, str(phone), keyring.blind_index(address_key(channel, str(phone)))
    return PAGER, str(volunteer.id), f"pager:{volunteer.id}"


def page_body(
    report: Report,
    now: datetime,
    *,
    page: Page,
    incident: Incident,
    owner: str | None = None,
    exact_location: bool = False,
) -> dict[str, Any]:
    """Return a page's text and buttons in the current locale, for the page's channel and the incident's state.

    By SMS there are no buttons: the page ends with the alert's short code to text back instead.
    ``exact_location`` (a deployment's choice, off by default) adds the coordinates to the page.
    """
    waiting = incident.status == "paging"
    text = page_text(report, now, incident=incident, owner=owner, sms=page.channel == "sms")
    location = report.location or {}
    if exact_location and "lat" in location:
        text += "\n" + map_link(location["lat"], location["lon"])
    if page.channel == "sms":
        suffix = translate_for_volunteer(SMS_ACK, code=f"{incident.alert}A") if waiting else ""
        return {"text": "\n".join(filter(None, [text, suffix])), "buttons": []}
    buttons = [
        {"label": translate_for_volunteer(ACKNOWLEDGE), "data": f"{ACK_PREFIX}{page.id}"},
        {"label": translate_for_volunteer(DECLINE), "data": f"{DECLINE_PREFIX}{page.id}"},
    ]
    return {"text": text, "buttons": [buttons] if waiting else []}


def page_text(report: Report, now: datetime, *, incident: Incident, owner: str | None = None, sms: bool = False) -> str:
    """Describe a report for a page, without names, numbers or coordinates."""
    t = translate_for_volunteer
    people, medical = report.people or {}, report.medical or {}
    flags = [t(name) for name, on in _urgency_flags(people, medical) if on]
    title = TITLES.get(report.kind, V_("🆘 Report {reference}"))
    lines = [t(title, reference=report.reference) + f" · #{incident.alert}"]
    lines.append(t(V_("⚠️ URGENT: {flags}"), flags=", ".join(flags)) if flags else t(V_("Urgency: not known yet")))
    total, children = _count(people.get("total")), _count(people.get("children"))
    lines.append(t(V_("People: {total}, children: {children}"), total=total, children=children))
    lines.append(t(V_("Location: {freshness}"), freshness=_location_freshness(report, now)))
    language = languages.get(report.language).native if report.language else "?"
    lines.append(t(V_("Language: {language} · channel: {channel}"), language=language, channel=report.channel))
    if report.reported_by in REPORTED_BY:
        lines.append(t(REPORTED_BY[report.reported_by]))
    if report.group_id is not None and report.group_id != report.id:
        lines.append(t(SAME_GROUP, group=report.group_id))
    if any(note.get("field") == "handoff" for note in report.notes or []):
        lines.append(t(V_("🙋 Asked to talk to a person")))
    lines.append(_state_line(incident, now, owner, sms))
    return "\n".join(line for line in lines if line)


def _state_line(incident: Incident, now: datetime, owner: str | None, sms: bool) -> str:
    t = translate_for_volunteer
    if incident.status == "resolved":
        return t(V_("☑️ Closed"))
    if incident.status == "acknowledged":
        return t(V_("✅ Taken by {name}"), name=owner) if owner else t(V_("✅ Acknowledged"))
    if incident.acknowledged_at is not None:  # paged again: taken once, never closed
        return t(V_("⏰ Taken {age} ago and not closed yet"), age=format_age(now - incident.acknowledged_at))
    return "" if sms else t(V_("Press Acknowledge to take this case."))


def page_speech(report: Report) -> str:
    """Return what a page call says, in the current locale: that a case waits, and how urgent it is."""
    t = translate_for_volunteer
    people, medical = report.people or {}, report.medical or {}
    flags = [t(name) for name, on in _urgency_flags(people, medical) if on]
    urgent = t(V_("It is urgent: {flags}."), flags=", ".join(flags)) if flags else ""
    return " ".join(filter(None, [t(V_("Hotline page. A case needs a volunteer.")), urgent]))


def _urgency_flags(people: dict[str, Any], medical: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        (V_("children"), (people.get("children") or 0) > 0),
        (V_("pregnant"), bool(people.get("pregnant"))),
        (V_("medical emergency"), bool(medical.get("emergency"))),
    ]


def _count(value: Any) -> str:
    return "?" if value is None else format_number(int(value))


def _location_freshness(report: Report, now: datetime) -> str:
    location = report.location or {}
    if "received_at" not in location:
        words = any(note.get("field") == "location" for note in report.notes or [])
        return translate_for_volunteer(V_("described in words only") if words else V_("not sent yet"))
    age = format_age(now - datetime.fromisoformat(location["received_at"]))
    source = translate_for_volunteer(SOURCES.get(location.get("source", "pin"), SOURCES["pin"]))
    return translate_for_volunteer(V_("{source}, {age} old"), source=source, age=age)


def details_body(report: Report) -> dict[str, Any]:
    """Return the case details sent only to the volunteer who acknowledged."""
    t = translate_for_volunteer
    data = reports.report_json(report)
    people, medical = data["people"], data["medical"]
    lines = [t(V_("Case {reference} is yours."), reference=report.reference)]
    lines.append(
        t(
            V_("People: {total}, children: {children}"),
            total=_count(people["total"]),
            children=_count(people["children"]),
        )
    )
    lines.append(t(V_("Pregnant: {answer}"), answer=_answer(people["pregnant"])))
    lines.append(t(V_("Needs a doctor now: {answer}"), answer=_answer(medical["emergency"])))
    if medical["details"]:
        lines.append(t(V_("What is wrong: {words}"), words=_clip(medical["details"], NOTE_IN_MESSAGE)))
    lines.append(t(V_("Wants asylum: {answer}"), answer=t(ANSWERS[data["asylum_intent"]])))
    lines.append(t(V_("Needs: {needs}"), needs=", ".join(data["needs"]) or "-"))
    location = data["location"]
    if location:
        lat, lon = location["lat"], location["lon"]
        lines.append(
            t(
                V_("Location: {lat:.6f}, {lon:.6f} ({source}, {at})"),
                lat=lat,
                lon=lon,
                source=location["source"],
                at=location["received_at"],
            )
        )
        lines.append(map_link(lat, lon))
    words = V_("Their words ({field}): {text}")
    lines += [t(words, field=n["field"], text=_clip(n["text"], NOTE_IN_MESSAGE)) for n in data["notes"]]
    return {"text": _clip("\n".join(lines)), "buttons": []}


def _answer(value: bool | None) -> str:
    return translate_for_volunteer(ANSWERS[{True: "yes", False: "no", None: "unknown"}[value]])


def map_link(lat: float, lon: float) -> str:
    """Return an OpenStreetMap link with a marker at a point."""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=15/{lat:.6f}/{lon:.6f}"
