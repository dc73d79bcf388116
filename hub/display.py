"""The hub display: the block and a big countdown, each station with its group and who is
present, missing or at the wrong station, what comes next, stations offline, and the
teacher's controls.

Two views. The **class view** is safe for the projector: names (first name, last initial),
places and times only, groups by their public names (:mod:`hub.privacy`) in every text it
draws (cards, "next" strip, banners, dialogs), never a reflection answer, flag, confidence,
mood or level. The **teacher view** adds the reflection flags, in a panel and as a mark
beside the name, and the teacher's own group names, under a dark bar that says it is the
teacher's; it is drawn only while the service says it is unlocked (a PIN on the keypad, or
the teacher console). Drawing only: state comes in a HubView and the Controls; ``draw``
changes nothing.
Laid out on a 1920x1080 reference and scaled, so it is readable from the back of a classroom
at 1080p and usable at 1280x720.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hub.controls import Controls, Geometry
from hub.view import HubView, Person, counts, group_label, message, people_at, suggested_label
from stations.ui.widgets import Button, Move, draw_moves, format_countdown

if TYPE_CHECKING:
    from stations.ui.painter import Painter

#: The default window; fullscreen uses the screen's size.
WIDTH, HEIGHT = 1280, 720
PHASE_WORDS = {"idle": "Not started", "running": "", "paused": "Paused", "ended": "Lesson over"}
STATUS_ICON = {"present": ("check", "good"), "missing": ("question", "muted"),
               "wrong": ("arrow_right", "warn"), "visitor": ("pin", "warn"),
               "absent": ("offline", "muted")}
MESSAGE_S = 8.0


def draw_hub(view: HubView, ui: Painter, controls: Controls | None = None,
             now: float | None = None) -> None:
    controls = controls or Controls()
    now = time.time() if now is None else now
    w, h = ui.surface.get_size()
    g = Geometry(w, h)
    teacher = controls.showing_teacher(view, now)
    ui.fill("background")
    _top_bar(view, ui, g, teacher)
    side = g.side_w if teacher else 0
    top = g.bar_h
    bottom = h - g.controls_h - g.next_h
    _stations(view, ui, g, teacher, 0, top, w - side, bottom - top)
    if teacher:
        _teacher_panel(view, ui, g, w - side, top, side, bottom - top)
    _next_strip(view, ui, g, teacher, bottom)
    buttons = controls.buttons(view, w, h)
    if controls.dialog:
        _buttons(ui, g, controls._bar_buttons(view, g), -1)
        _dialog(view, ui, g, controls, buttons, teacher, now)
    else:
        _buttons(ui, g, buttons, controls.focus)
    banner = message(view, now, teacher=teacher, show_s=MESSAGE_S)
    if banner:
        _toast(ui, g, banner)


def _top_bar(view: HubView, ui: Painter, g: Geometry, teacher: bool) -> None:
    rot = view.rotation
    px = g.px
    bar = "text" if teacher else "bar"
    ui.panel(0, 0, g.w, g.bar_h, bar)
    mid = g.bar_h // 2
    title = view.class_title or f"Room {view.room}"
    if view.plan_name:
        title += f" · {view.plan_name}"
    ui.text(title, px(30), mid - px(30), px(46), "bar_text", anchor="midleft",
            max_w=px(560))
    if teacher:
        ui.text("TEACHER VIEW · not for the projector", px(30), mid + px(34), px(36), "warn",
                anchor="midleft", max_w=px(600))
    elif rot.phase.value in ("running", "paused"):
        ui.text(f"Block {rot.block + 1} of {rot.blocks}", px(30), mid + px(34), px(48),
                "bar_text", anchor="midleft", max_w=px(560))
    if rot.phase.value in ("running", "paused"):
        # An hourglass and "left": the time to go in the block, never the time of day.
        warn = rot.warning or rot.phase.value == "paused"
        role = "warn" if warn else "bar_text"
        ui.icon("hourglass", px(690), mid, px(84), role)
        clock = ui.text(format_countdown(rot.remaining_s), px(750), mid + px(6), px(170),
                        role, anchor="midleft", max_w=px(420))
        ui.text("left", clock.right + px(14), mid + px(30), px(56), role,
                anchor="midleft", max_w=px(120))
    word = PHASE_WORDS[rot.phase.value]
    if rot.phase.value == "running" and rot.moving_s > 0:
        word = f"Move now · {format_countdown(rot.moving_s)}"
    elif rot.phase.value == "running" and rot.warning:
        word = f"{max(1, round(rot.remaining_s / 60))} min left"
    if teacher and rot.phase.value in ("running", "paused"):
        word = f"Block {rot.block + 1} of {rot.blocks}" + (f" · {word}" if word else "")
    right = g.w - px(30)
    if not view.connected:
        ui.icon("offline", right - px(30), mid, px(56), "warn")
        right -= px(80)
    if word:
        ui.text(word, right, mid, px(54), "warn" if rot.phase.value == "paused"
                or rot.warning else "bar_text", anchor="midright", max_w=px(560))


def _stations(view: HubView, ui: Painter, g: Geometry, teacher: bool, x0: int, y0: int,
              w: int, h: int) -> None:
    px = g.px
    infos = list(view.stations) or []
    ids = [s.id for s in infos] or list(view.station_names)
    info = {s.id: s for s in infos}
    n = max(1, len(ids))
    cols = min(4, n) if n != 5 and n != 6 else 3
    rows = -(-n // cols)
    gap = px(20)
    cw = (w - gap * (cols + 1)) // cols
    ch = (h - gap * (rows + 1)) // rows
    for k, sid in enumerate(ids):
        x = x0 + gap + (k % cols) * (cw + gap)
        y = y0 + gap + (k // cols) * (ch + gap)
        s = info.get(sid)
        online = view.station_states.get(sid) == "online"
        ui.panel(x, y, cw, ch, "panel", radius=px(22))
        if not online:
            ui.outline(x, y, cw, ch, "warn", max(2, px(5)), radius=px(22))
        head = px(84)
        ui.stripe(s.colour if s else "", x, y, px(16), ch, radius=px(8))
        ui.swatch(s.colour if s else "", x + px(64), y + head // 2 + px(8), px(34),
                  s.icon if s else "pin")
        ui.text(view.station_names.get(sid, sid), x + px(112), y + head // 2 + px(8), px(50),
                "text", anchor="midleft", max_w=cw - px(112) - px(70))
        ui.icon("check" if online else "offline", x + cw - px(40), y + head // 2 + px(8),
                px(40), "good" if online else "warn")
        if not online:  # the word at the card's foot, so the station's name keeps its size
            ui.text("offline", x + cw - px(28), y + ch - px(30), px(34), "warn",
                    anchor="midright")
        group = view.rotation.assignments.get(sid, "")
        people = people_at(view, sid)
        here = sum(p.status == "present" for p in people)
        expected = sum(p.status != "visitor" for p in people)
        label = group_label(view, group, teacher=teacher) if group else ""
        if not label and view.rotation.model.value != "station-rotation" and people:
            label = "Playlist" if view.rotation.model.value == "individual-rotation" else "Flex"
        ui.text(label or "—", x + px(40), y + head + px(40), px(46), "accent",
                anchor="midleft", max_w=cw - px(200))
        if expected:
            ui.text(f"{here}/{expected} here", x + cw - px(24), y + head + px(40), px(36),
                    "muted", anchor="midright")
        _people(view, ui, g, teacher, people, x + px(30), y + head + px(84), cw - px(50),
                ch - head - px(96))


def _people(view: HubView, ui: Painter, g: Geometry, teacher: bool, people: list[Person],
            x: int, y: int, w: int, h: int) -> None:
    px = g.px
    line = px(50)
    fits = max(1, h // line)
    cols = 2 if len(people) > fits and w > px(380) else 1
    per_col = fits
    col_w = w // cols
    shown = people[:per_col * cols]
    if len(people) > len(shown):
        shown = shown[:-1]
    for k, p in enumerate(shown):
        cx = x + (k // per_col) * col_w
        cy = y + (k % per_col) * line + line // 2
        icon, role = STATUS_ICON[p.status]
        ui.icon(icon, cx + px(16), cy, px(32), role)
        text_role = "muted" if p.status in ("absent", "missing") else "text"
        name = p.name
        flagged = teacher and p.student_id in view.flags
        right = px(44) if flagged else 0
        if p.status == "wrong":
            name += f": at {p.other}"
        elif p.status == "visitor":
            name += f": belongs at {p.other}"
        elif p.status == "absent":
            name += " (absent)"
        ui.text(name, cx + px(44), cy, px(38), "warn" if p.status in ("wrong", "visitor")
                else text_role, anchor="midleft", max_w=col_w - px(54) - right)
        if flagged:
            ui.icon("fault", cx + col_w - px(28), cy, px(34), "warn")
    if len(people) > len(shown):
        k = len(shown)
        ui.text(f"+{len(people) - k} more", x + (k // per_col) * col_w + px(44),
                y + (k % per_col) * line + line // 2, px(34), "muted", anchor="midleft")


def _teacher_panel(view: HubView, ui: Painter, g: Geometry, x: int, y: int, w: int,
                   h: int) -> None:
    px = g.px
    ui.panel(x, y + px(20), w - px(20), h - px(40), "panel", radius=px(22))
    ui.outline(x, y + px(20), w - px(20), h - px(40), "warn", max(2, px(4)), radius=px(22))
    ui.icon("fault", x + px(44), y + px(70), px(44), "warn")
    ui.text("Reflection flags", x + px(80), y + px(70), px(42), "text", anchor="midleft",
            max_w=w - px(120))
    row = y + px(130)
    names = view.student_names
    flagged = sorted(view.flags.items(), key=lambda kv: names.get(kv[0], kv[0]))
    if not flagged:
        ui.text("No flags today", x + px(30), row, px(34), "muted", anchor="midleft")
    warnings = view.warnings[-2:]
    limit = y + h - px(200 + 40 * len(warnings))
    for sid, texts in flagged:
        if row > limit:
            ui.text(f"+{len(flagged)} in all", x + px(30), row, px(30), "muted",
                    anchor="midleft")
            break
        ui.text(names.get(sid, sid), x + px(30), row, px(36), "text", anchor="midleft",
                max_w=w - px(70))
        for t in texts:
            row += px(40)
            ui.text(t, x + px(50), row, px(30), "warn", anchor="midleft", max_w=w - px(90))
        row += px(56)
    for k, warning in enumerate(warnings):
        ui.text(warning, x + px(30), y + h - px(170 + 40 * (len(warnings) - k)), px(28), "warn",
                anchor="midleft", max_w=w - px(70))
    work = ""
    if view.groups_work:
        work = f"{view.groups_work}…"
    elif view.suggested_groups is not None:
        moved = view.suggestion.moved if view.suggestion is not None else 0
        work = f"Suggested groups wait: {moved} move · tap Approve groups"
    if work:
        ui.text(work, x + px(30), y + h - px(170), px(28), "accent", anchor="midleft",
                max_w=w - px(70))
    c = counts(view)
    ui.text(f"{c['present']} here · {c['missing']} missing · {c['wrong'] + c['visitor']} "
            f"misplaced · {c['absent']} absent", x + px(30), y + h - px(130), px(28), "muted",
            anchor="midleft", max_w=w - px(70))
    ui.text(f"{view.stored} check-ins stored", x + px(30), y + h - px(90), px(28), "muted",
            anchor="midleft")


def _next_strip(view: HubView, ui: Painter, g: Geometry, teacher: bool, y: int) -> None:
    px = g.px
    ui.panel(0, y, g.w, g.next_h, "button")
    mid = y + g.next_h // 2
    ui.text("Next", px(30), mid, px(44), "accent", anchor="midleft")
    ui.icon("arrow_right", px(160), mid, px(40), "accent")
    rot = view.rotation
    if rot.phase.value not in ("running", "paused"):
        return
    nxt = rot.next_assignments
    if not nxt and rot.model.value == "station-rotation":
        ui.text("The lesson ends after this block", px(200), mid, px(40), "text",
                anchor="midleft")
        return
    items = [s for s in view.stations if nxt.get(s.id)] if nxt else []
    if not items:
        waiting = sum(len(v) for v in rot.expected_next.values())
        text = (f"{waiting} students have a next station on their playlist"
                if rot.model.value != "station-rotation" else "")
        ui.text(text, px(200), mid, px(36), "text", anchor="midleft")
        return
    moves = [Move(group_label(view, nxt[s.id], teacher=teacher), s.name, s.colour, s.icon)
             for s in items]
    draw_moves(ui, moves, px(210), y, g.w - px(230), g.next_h, text_size=px(36))


def _buttons(ui: Painter, g: Geometry, buttons: list[Button], focus: int) -> None:
    """The controls, one label size per kind (the largest every one of them fits at): a
    picture then its word; a keypad's keys, their digit alone, centred."""
    px = g.px
    worded = [b for b in buttons if b.icon]
    keys = [b for b in buttons if not b.icon]
    icon = int(min(min((b.h for b in worded), default=0) * 0.5, px(56)))
    pad, gap = icon // 2, icon // 3

    def room(b: Button) -> int:
        return b.w - pad - icon - gap - pad
    size = min((ui.fit(b.label, min(px(44), b.h // 2), room(b)) for b in worded), default=0)
    key_size = min((ui.fit(b.label, max(24, min(px(64), b.h // 2)), b.w - px(20))
                    for b in keys), default=0)
    for k, b in enumerate(buttons):
        fill = {"primary": "accent", "warn": "button", "off": "panel"}.get(b.style, "button")
        edge = {"warn": "warn", "off": "muted"}.get(b.style, "button_edge")
        fg = {"primary": "bar_text", "off": "muted", "warn": "warn"}.get(b.style, "text")
        ui.panel(b.x, b.y, b.w, b.h, fill, radius=px(18))
        ui.outline(b.x, b.y, b.w, b.h, "text" if k == focus else edge,
                   max(2, px(8 if k == focus else 4)), radius=px(18))
        if not b.icon:
            ui.text(b.label, b.x + b.w // 2, b.y + b.h // 2, key_size, fg, max_w=b.w - px(20))
            continue
        ui.icon(b.icon, b.x + pad + icon // 2, b.y + b.h // 2, icon,
                fg if b.style != "normal" else "accent")
        ui.text(b.label, b.x + pad + icon + gap, b.y + b.h // 2, size, fg, anchor="midleft",
                max_w=room(b))


def _dialog(view: HubView, ui: Painter, g: Geometry, controls: Controls,
            buttons: list[Button], teacher: bool, now: float) -> None:
    px = g.px
    ui.shade()
    x, y, w, h = g.dialog()
    ui.panel(x, y, w, h, "background", radius=px(26))
    ui.outline(x, y, w, h, "accent", max(2, px(6)), radius=px(26))
    ui.text(controls.title(view), x + w // 2, y + px(60), px(58), "text", max_w=w - px(60))
    if controls.dialog == "enroll":
        hint = ("Waiting for a badge…" if not view.enrollment.offers
                else "Pick the badge, then the student")
        ui.text(hint, x + w // 2, y + px(130), px(40), "muted")
        if not view.enrollment.offers:
            ui.icon("badge", x + w // 2, y + h // 2, px(200), "accent")
    if controls.dialog == "pin":
        hint = controls.pin_hint(view, now)
        wrong = controls.pin_wrong or view.access.paused_until > now
        if hint:
            ui.text(hint, x + w // 2, y + px(130), px(44), "warn" if wrong else "muted",
                    max_w=w - px(60))
        digits = len(controls.pin_entry)
        for k in range(digits):  # one dot a digit, never the digit
            ui.disc(x + w // 2 + (2 * k - digits + 1) * px(30), y + px(130), px(12), "text")
    if controls.dialog == "groups" and teacher:  # a suggestion is for the teacher alone
        if view.suggested_groups:
            _suggestion(view, ui, g, x, y + px(110), w, h - px(110) - px(150))
        elif view.groups_work:
            seconds = max(0.0, now - view.groups_work_at)
            ui.icon("hourglass", x + w // 2, y + h // 2 - px(60), px(120), "accent")
            ui.text(f"{view.groups_work}… {seconds:.0f} s", x + w // 2, y + h // 2 + px(60),
                    px(44), "text", max_w=w - px(80))
        else:
            ui.text(f"From the scores and reflections of {view.class_title or 'the class'}",
                    x + w // 2, y + px(130), px(38), "muted", max_w=w - px(80))
    if controls.dialog == "groups_student" and teacher and view.suggestion is not None:
        sid = controls.student
        reason = view.suggestion.reasons.get(sid, "")
        about = view.suggestion.features.get(sid, "")
        ui.text(reason, x + w // 2, y + px(120), px(30), "muted", max_w=w - px(80))
        if about:
            ui.text(about, x + w // 2, y + px(165), px(30), "muted", max_w=w - px(80))
    _buttons(ui, g, buttons, controls.focus)


def _suggestion(view: HubView, ui: Painter, g: Geometry, x: int, y: int, w: int,
                h: int) -> None:
    """The suggested groups, side by side: the teacher's name, how each differs from the
    current group, and each member with their reflection features; the engine's summary."""
    px = g.px
    groups = view.suggested_groups or ()
    detail = view.suggestion
    cols = 2 if len(groups) == 4 else min(3, max(1, len(groups)))
    rows = -(-len(groups) // cols)
    col_w = (w - px(40)) // cols
    line = px(38)
    block_h = (h - px(50)) // max(1, rows)
    for k, (_name, members) in enumerate(groups):
        cx = x + px(30) + (k % cols) * col_w
        cy = y + (k // cols) * block_h
        change = detail.groups[k].change if detail is not None and k < len(detail.groups) \
            else ""
        ui.text(f"{suggested_label(view, k, teacher=True)} ({len(members)})", cx, cy + line // 2,
                px(36), "accent", anchor="midleft", max_w=col_w - px(20))
        if change:
            ui.text(change, cx, cy + line + line // 2, px(26), "muted", anchor="midleft",
                    max_w=col_w - px(20))
        fits = max(1, block_h // line - 2)
        for n, sid in enumerate(members[:fits]):
            my = cy + (n + 2) * line + line // 2
            name_rect = ui.text(view.student_names.get(sid, sid), cx + px(10), my, px(30),
                                "text", anchor="midleft", max_w=col_w // 2)
            about = detail.features.get(sid, "") if detail is not None else ""
            if about:
                ui.text(about, name_rect.right + px(12), my, px(24), "muted",
                        anchor="midleft", max_w=col_w - (name_rect.right - cx) - px(30))
        if len(members) > fits:
            ui.text(f"+{len(members) - fits} more", cx + px(10),
                    cy + (fits + 2) * line + line // 2, px(26), "muted", anchor="midleft")
    if detail is not None:
        summary = ("Adjusted by you. " if detail.adjusted else "") + detail.summary
        ui.text(summary, x + w // 2, y + h - px(20), px(26), "muted", max_w=w - px(60))


def _toast(ui: Painter, g: Geometry, message: str) -> None:
    px = g.px
    w, h = min(g.w - px(100), px(1200)), px(90)
    x, y = (g.w - w) // 2, g.h - g.controls_h - g.next_h - h - px(20)
    ui.panel(x, y, w, h, "text", radius=px(20))
    ui.text(message, x + w // 2, y + h // 2, px(40), "bar_text", max_w=w - px(40))
