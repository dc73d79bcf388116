"""The hub display's controls: a small pure state machine over the HubView.

It lays out the buttons for the current screen size (:meth:`Controls.buttons`), turns a touch,
a click or a key into :class:`~hub.actions.TeacherAction` s, and remembers which view
(class or teacher) and which dialog is open. No pygame: the app feeds it coordinates and key
names, the display draws what :meth:`buttons` returns.

Every control can be reached by keyboard: the letters on the controls bar, arrows to move the
focus and Enter to press it, Escape to close a dialog.

Starting a lesson: where the room hosts more than one class (or a class has more than one
plan), Start asks which class (the timetable's class of the hour first) and which plan.

Suggested groups live on the teacher view alone: its "Groups" control asks the grouping
engine for skill, mixed or interest groups, or to regroup the students here; the suggestion
is shown with each group's change and each student's reflection features, a student can be
moved, and it is approved or set aside. None of it is drawn on the class view.

Badges ("Enroll badge", a student's "Lost badge") and "End" are on the teacher view alone:
at the shared screen a student could otherwise link a spare card to a classmate, revoke one,
or end the lesson (the service refuses them from the display while the view is locked).

The teacher view needs the teacher: "Teacher view" opens a PIN keypad unless the service says
the view is unlocked (a right PIN, or the teacher console). The teacher view closes, and is
locked again, when the unlock runs out, when the teacher goes back to the class view, and at
once when the lesson screen is **left alone**: no touch, click or key for ``idle_s`` seconds
(``[display] teacher_idle_seconds``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.actions import TeacherAction
from hub.pin import MAX_DIGITS
from hub.view import HubView, group_label
from stations.ui.widgets import Button

REF_W, REF_H = 1920, 1080
EXTEND_MINUTES = 5.0
#: The keypad's keys: never smaller than this on any screen (a child's fingertip is 48).
KEY_MIN = 64
#: Dialogs of the teacher view alone: they close when it locks.
TEACHER_DIALOGS = frozenset({"groups", "groups_students", "groups_student", "enroll",
                             "enroll_pick", "confirm_end"})
KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "pin_back", "0", "pin_ok")


@dataclass(frozen=True, slots=True)
class Geometry:
    """Reference layout (1920x1080) scaled to the real screen."""

    w: int
    h: int

    @property
    def s(self) -> float:
        return min(self.w / REF_W, self.h / REF_H)

    def px(self, n: float) -> int:
        return max(1, round(n * self.s))

    @property
    def bar_h(self) -> int:
        return self.px(150)

    @property
    def controls_h(self) -> int:
        # never below 56 px: a finger's width on any classroom screen
        return max(56, self.px(124))

    @property
    def next_h(self) -> int:
        return self.px(84)

    @property
    def side_w(self) -> int:
        return self.px(440)

    def dialog(self) -> tuple[int, int, int, int]:
        m = self.px(90)
        return m, self.bar_h // 2, self.w - 2 * m, self.h - self.bar_h // 2 - self.px(40)


def needs_choice(view: HubView) -> bool:
    """Start asks which class and plan: the room hosts several classes, the class has
    several plans, or the timetable proposes another class than the last lesson's."""
    choices = view.lesson_choices
    return (len(choices) > 1 or any(len(c.plans) > 1 for c in choices)
            or any(c.proposed and c.class_id != view.class_id for c in choices))


@dataclass
class Controls:
    #: The teacher view is open (only ever while the service says it is unlocked).
    teacher: bool = False
    #: "", "students", "student", "enroll", "enroll_pick", "confirm_end", "groups",
    #: "groups_students", "groups_student", "lesson", "lesson_plan", "pin"
    dialog: str = ""
    #: lesson_plan: the class chosen.
    class_id: str = ""
    page: int = 0
    student: str = ""
    badge: str = ""
    focus: int = -1
    last_input: float = 0.0
    #: Seconds without input after which the lesson screen counts as left alone.
    idle_s: float = 30.0
    #: The digits typed on the keypad so far.
    pin_entry: str = field(default="", repr=False)
    #: The service's PIN attempt count when ours was sent; -1 while none is pending.
    pin_sent_at: int = -1
    #: The last PIN typed was wrong (the keypad says so until the next digit).
    pin_wrong: bool = False
    #: The latest unlock seen: a new one counts as someone at the screen.
    unlock_seen: float = 0.0

    # --- layout ---------------------------------------------------------------------------------

    def buttons(self, view: HubView, w: int, h: int) -> list[Button]:
        g = Geometry(w, h)
        return self._dialog_buttons(view, g) if self.dialog else self._bar_buttons(view, g)

    def _bar_buttons(self, view: HubView, g: Geometry) -> list[Button]:
        phase = view.rotation.phase.value
        items: list[tuple[str, str, str, str, str]] = []  # id, label, icon, style, key
        if phase in ("idle", "ended"):
            items.append(("start", "Start", "arrow_right", "primary", "s"))
        elif phase == "paused":
            items.append(("resume", "Resume", "arrow_right", "primary", "space"))
        else:
            items.append(("pause", "Pause", "pause", "normal", "space"))
        running = phase in ("running", "paused")
        teacher = self.showing_teacher(view, view.at)
        items += [("extend", f"+{EXTEND_MINUTES:g} min", "hourglass",
                   "normal" if running else "off", "+"),
                  ("skip", "Next block", "arrow_down", "normal" if running else "off", "n")]
        if teacher:  # badges and the lesson's end need the teacher (as the service checks)
            items.append(("end", "End", "fault", "warn" if running else "off", "e"))
        items.append(("students", "Move student", "people", "normal", "m"))
        if teacher:
            items.append(("enroll", "Enroll badge", "badge",
                          "primary" if view.enrollment.active else "normal", "b"))
        if teacher:
            waiting = view.suggested_groups is not None
            items.append(("groups", "Approve groups" if waiting else "Groups",
                          "check" if waiting else "star", "primary" if waiting else "normal",
                          "g"))
        items.append(("view", "Class view" if self.teacher else "Teacher view",
                      "question" if self.teacher else "teacher", "normal", "t"))
        gap = g.px(14)
        bw = (g.w - gap * (len(items) + 1)) // len(items)
        bh = g.controls_h - 2 * gap
        y = g.h - g.controls_h + gap
        return [Button(i, gap + k * (bw + gap), y, bw, bh, label, icon, style, key)
                for k, (i, label, icon, style, key) in enumerate(items)]

    def _grid(self, g: Geometry, items: list[tuple[str, str, str, str]], title_h: int,
              footer: list[tuple[str, str, str, str]]) -> list[Button]:
        x0, y0, dw, dh = g.dialog()
        gap = g.px(16)
        row_h = max(56, g.px(100))
        cols = 4 if dw >= g.px(1400) else 3
        top = y0 + title_h
        bottom = y0 + dh - row_h - 2 * gap
        rows = max(1, (bottom - top) // (row_h + gap))
        per_page = rows * cols
        pages = max(1, -(-len(items) // per_page))
        self.page = min(self.page, pages - 1)
        shown = items[self.page * per_page:(self.page + 1) * per_page]
        cw = (dw - gap * (cols + 1)) // cols
        out = [Button(i, x0 + gap + (k % cols) * (cw + gap), top + (k // cols) * (row_h + gap),
                         cw, row_h, label, icon, style)
               for k, (i, label, icon, style) in enumerate(shown)]
        foot = list(footer)
        if pages > 1:
            foot = [("page_prev", "Back", "arrow_down", "off" if self.page == 0 else "normal"),
                    ("page_next", f"More ({self.page + 1}/{pages})", "arrow_right",
                     "off" if self.page >= pages - 1 else "normal"), *foot]
        fw = (dw - gap * (len(foot) + 1)) // max(1, len(foot))
        fy = y0 + dh - row_h - gap
        out += [Button(i, x0 + gap + k * (fw + gap), fy, fw, row_h, label, icon, style)
                for k, (i, label, icon, style) in enumerate(foot)]
        return out

    def _dialog_buttons(self, view: HubView, g: Geometry) -> list[Button]:
        title_h = g.px(120)
        teacher = self.showing_teacher(view, view.at)
        close = ("close", "Close", "arrow_down", "normal")
        if self.dialog == "students":
            names = sorted(view.student_names.items(), key=lambda kv: kv[1])
            items = [(f"student:{sid}", name, "people",
                      "off" if sid in view.rotation.absent else "normal") for sid, name in names]
            return self._grid(g, items, title_h, [close])
        if self.dialog == "student":
            current = next((gid for gid, ms in view.rotation.members.items()
                            if self.student in ms), "")
            items = [(f"group:{gid}", f"To {group_label(view, gid, teacher=teacher)}",
                      "arrow_right", "off" if gid == current else "normal")
                     for gid in view.group_names]
            absent = self.student in view.rotation.absent
            items.append(("present" if absent else "absent",
                          "Is here" if absent else "Absent today", "check" if absent
                          else "offline", "normal"))
            if teacher:
                items.append(("revoke", "Lost badge", "fault", "warn"))
            return self._grid(g, items, title_h, [("back", "Back", "arrow_down", "normal")])
        if self.dialog == "enroll":
            items = [(f"offer:{o.badge}", f"Badge …{o.badge[-4:]} at "
                      f"{view.station_names.get(o.station, o.station)}", "badge", "primary")
                     for o in view.enrollment.offers]
            return self._grid(g, items, title_h + g.px(60),
                              [("enroll_stop", "Done enrolling", "check", "normal")])
        if self.dialog == "enroll_pick":
            items = [(f"pick:{sid}", name + (" (has one)" if has else ""), "people",
                      "normal" if not has else "off")
                     for sid, name, has in view.enrollment.candidates]
            # a student who has a badge can still get another: "off" only greys it
            items = [(i, label, icon, "normal") if style == "off" else (i, label, icon, style)
                     for i, label, icon, style in items]
            return self._grid(g, items, title_h, [("back", "Back", "arrow_down", "normal")])
        if self.dialog == "confirm_end":
            return self._grid(g, [], title_h, [("end_yes", "End the lesson", "fault", "warn"),
                                               ("close", "Keep going", "arrow_right",
                                                "primary")])
        if self.dialog == "groups":
            if not teacher:
                return self._grid(g, [], title_h, [close])
            if view.suggested_groups is not None:
                return self._grid(g, [], title_h, [
                    ("groups_yes", "Approve", "check", "primary"),
                    ("groups_move", "Move a student", "people", "normal"),
                    ("groups_no", "Keep current", "arrow_down", "normal")])
            if view.groups_work:
                return self._grid(g, [], title_h, [close])
            items = [("suggest:skill", "Skill groups", "star", "normal"),
                     ("suggest:mixed", "Mixed groups", "people", "normal"),
                     ("suggest:interest", "Interest groups", "puzzle", "normal"),
                     ("suggest:present", "Regroup who's here", "check", "normal")]
            return self._grid(g, items, title_h + g.px(60), [close])
        if self.dialog == "groups_students" and teacher and view.suggested_groups:
            names = view.student_names
            items = [(f"gstudent:{sid}", names.get(sid, sid), "people", "normal")
                     for _name, members in view.suggested_groups for sid in members]
            return self._grid(g, items, title_h, [("back", "Back", "arrow_down", "normal")])
        if self.dialog == "groups_student" and teacher and view.suggested_groups:
            here = next((name for name, members in view.suggested_groups
                         if self.student in members), "")
            items = [(f"gto:{k}", f"To {name}", "arrow_right",
                      "off" if name == here else "normal")
                     for k, (name, _m) in enumerate(view.suggested_groups)]
            return self._grid(g, items, title_h + g.px(110),
                              [("back", "Back", "arrow_down", "normal")])
        if self.dialog == "lesson":
            items = [(f"class:{c.class_id}", c.title + (" · now" if c.proposed else ""),
                      "people", "primary" if c.proposed else "normal")
                     for c in view.lesson_choices]
            return self._grid(g, items, title_h, [close])
        if self.dialog == "lesson_plan":
            choice = next((c for c in view.lesson_choices if c.class_id == self.class_id),
                          None)
            items = [(f"plan:{pid}", f"{name} · {about}", "arrow_right",
                      "primary" if choice is not None and pid == choice.proposed_plan
                      else "normal")
                     for pid, name, about in (choice.plans if choice else ())]
            return self._grid(g, items, title_h, [("back", "Back", "arrow_down", "normal")])
        if self.dialog == "pin":
            return self._keypad(view, g)
        return []

    def _keypad(self, view: HubView, g: Geometry) -> list[Button]:
        """Twelve keys of at least KEY_MIN px, centred under the typed digits, and Cancel."""
        x0, y0, dw, dh = g.dialog()
        gap = g.px(16)
        kh = max(KEY_MIN, g.px(140))
        kw = max(KEY_MIN, g.px(220))
        left = x0 + (dw - 3 * kw - 2 * gap) // 2
        top = y0 + g.px(200)
        usable = view.access.pin_set and self.pin_sent_at < 0 and \
            view.access.paused_until <= view.at
        out = []
        for k, key in enumerate(KEYPAD):
            label = {"pin_back": "Delete", "pin_ok": "OK"}.get(key, key)
            ident = key if key.startswith("pin_") else f"digit:{key}"
            style = ("primary" if key == "pin_ok" else "normal") if usable else "off"
            out.append(Button(ident, left + (k % 3) * (kw + gap), top + (k // 3) * (kh + gap),
                                 kw, kh, label, "", style))
        row_h = max(KEY_MIN, g.px(100))
        fw = max(KEY_MIN * 3, g.px(400))
        out.append(Button("close", x0 + (dw - fw) // 2, y0 + dh - row_h - gap, fw, row_h,
                             "Cancel", "arrow_down", "normal"))
        return out

    def title(self, view: HubView) -> str:
        if self.dialog == "students":
            return "Who? Pick a student"
        if self.dialog == "student":
            return view.student_names.get(self.student, self.student)
        if self.dialog == "enroll":
            return "Enrolling: tap the new badge at any station"
        if self.dialog == "enroll_pick":
            return f"Whose is badge …{self.badge[-4:]}?"
        if self.dialog == "confirm_end":
            return "End the lesson now?"
        if self.dialog == "groups":
            if view.suggested_groups is not None and self.showing_teacher(view, view.at):
                return "Approve the suggested groups?"
            return "Suggested groups"
        if self.dialog == "groups_students":
            return "Move whom?"
        if self.dialog == "groups_student":
            return f"Move {view.student_names.get(self.student, self.student)} to"
        if self.dialog == "lesson":
            return "Start the lesson of which class?"
        if self.dialog == "lesson_plan":
            title = next((c.title for c in view.lesson_choices
                          if c.class_id == self.class_id), self.class_id)
            return f"{title}: which plan?"
        if self.dialog == "pin":
            return "Teacher PIN"
        return ""

    def pin_hint(self, view: HubView, now: float) -> str:
        """The line under the keypad's title ("" while digits are typed: the display shows a
        dot for each), or why it waits."""
        access = view.access
        if not access.pin_set:
            return "No PIN set: run `stations teacher pin`, or open it from the teacher console"
        if access.paused_until > now:
            return f"Too many wrong PINs: try again in {access.paused_until - now:.0f} s"
        if self.pin_sent_at >= 0:
            return "Checking…"
        if self.pin_entry:
            return ""  # the display draws a dot for each digit
        return "Wrong PIN: try again" if self.pin_wrong else "Type your PIN"

    def showing_teacher(self, view: HubView, now: float) -> bool:
        """The teacher view is drawn only while open here and unlocked by the service."""
        return self.teacher and view.access.unlocked(now)

    # --- input ----------------------------------------------------------------------------------

    def update(self, view: HubView, now: float) -> list[TeacherAction]:
        """Follow the service's lock; lock it at once when the screen is left alone."""
        access = view.access
        if access.unlocked_until > self.unlock_seen:
            self.unlock_seen = access.unlocked_until
            self.last_input = max(self.last_input, now)
        if self.pin_sent_at >= 0 and access.attempts > self.pin_sent_at:
            self.pin_sent_at = -1  # our PIN's answer is in
            self.pin_wrong = not access.unlocked(now)
        if self.dialog == "pin" and access.unlocked(now) and self.pin_sent_at < 0:
            self.dialog, self.teacher, self.pin_wrong = "", True, False
        if self.teacher and not access.unlocked(now):
            self.teacher = False  # the unlock ran out
        if self.dialog in TEACHER_DIALOGS and not self.showing_teacher(view, now):
            self.dialog = ""  # a suggestion, badges, the lesson's end: the teacher's only
        if now - self.last_input >= self.idle_s:
            if self.dialog == "pin":
                self.dialog, self.pin_entry, self.pin_wrong = "", "", False
            if self.teacher or access.unlocked(now):
                self.teacher, self.dialog = False, ""
                return [TeacherAction("lock_teacher_view")]
        return []

    def press(self, x: int, y: int, view: HubView, w: int, h: int,
              now: float) -> list[TeacherAction]:
        self.last_input = now
        for b in self.buttons(view, w, h):
            if b.contains(x, y):
                return self._activate(b, view, now)
        return []

    def key(self, name: str, view: HubView, w: int, h: int, now: float) -> list[TeacherAction]:
        self.last_input = now
        buttons = self.buttons(view, w, h)
        if name == "escape":
            self.dialog, self.focus, self.pin_entry = "", -1, ""
            return []
        if self.dialog == "pin":
            digit = name.strip("[]")
            by_id = {b.id: b for b in buttons}
            if digit.isdigit() and len(digit) == 1:
                return self._activate(by_id[f"digit:{digit}"], view, now)
            if name == "backspace":
                return self._activate(by_id["pin_back"], view, now)
            if name in ("return", "enter") and self.focus < 0:
                return self._activate(by_id["pin_ok"], view, now)
        if name in ("left", "up", "right", "down", "tab") and buttons:
            step = -1 if name in ("left", "up") else 1
            self.focus = (self.focus + step) % len(buttons)
            return []
        if name in ("return", "enter") and 0 <= self.focus < len(buttons):
            return self._activate(buttons[self.focus], view, now)
        if not self.dialog:
            for b in buttons:
                if b.key == name or (name == "=" and b.key == "+"):
                    return self._activate(b, view, now)
        return []

    def _activate(self, b: Button, view: HubView, now: float) -> list[TeacherAction]:
        if b.style == "off" and b.id not in ("page_prev", "page_next"):
            return []
        self.focus = -1
        ident, _, arg = b.id.partition(":")
        simple = {"pause", "resume", "skip"}
        if ident in simple:
            return [TeacherAction(ident)]
        if ident == "start":
            if needs_choice(view):
                self.dialog, self.page = "lesson", 0
                return []
            return [TeacherAction("start")]
        if ident == "class":
            choice = next((c for c in view.lesson_choices if c.class_id == arg), None)
            if choice is not None and len(choice.plans) > 1:
                self.dialog, self.class_id, self.page = "lesson_plan", arg, 0
                return []
            self.dialog = ""
            return [TeacherAction("start_lesson", class_id=arg,
                                  plan=choice.plans[0][0] if choice and choice.plans else "")]
        if ident == "plan":
            self.dialog = ""
            return [TeacherAction("start_lesson", class_id=self.class_id, plan=arg)]
        if ident == "suggest":
            return [TeacherAction("suggest_groups", mode=arg)]  # the dialog shows the work
        if ident == "groups_move":
            self.dialog, self.page = "groups_students", 0
            return []
        if ident == "gstudent":
            self.dialog, self.student = "groups_student", arg
            return []
        if ident == "gto":
            self.dialog = "groups"
            groups = view.suggested_groups or ()
            k = int(arg)
            if k >= len(groups):
                return []
            return [TeacherAction("adjust_groups", student=self.student, group=groups[k][0])]
        if ident == "extend":
            return [TeacherAction("extend", EXTEND_MINUTES)]
        if ident == "end":
            self.dialog = "confirm_end"
        elif ident == "end_yes":
            self.dialog = ""
            return [TeacherAction("end")]
        elif ident == "view":
            if self.teacher:  # back to the class view: the next visit asks again
                self.teacher, self.dialog = False, ""
                return [TeacherAction("lock_teacher_view")]
            if view.access.unlocked(now):
                self.teacher, self.dialog = True, ""
            else:
                self.dialog, self.pin_entry, self.pin_wrong = "pin", "", False
        elif ident == "digit":
            if len(self.pin_entry) < MAX_DIGITS:
                self.pin_entry += arg
            self.pin_wrong = False
        elif ident == "pin_back":
            self.pin_entry = self.pin_entry[:-1]
        elif ident == "pin_ok":
            if not self.pin_entry:
                return []
            pin, self.pin_entry = self.pin_entry, ""
            self.pin_sent_at = view.access.attempts
            return [TeacherAction("teacher_pin", pin=pin)]
        elif ident == "students":
            self.dialog, self.page = "students", 0
        elif ident == "student":
            self.dialog, self.student = "student", arg
        elif ident == "group":
            self.dialog = ""
            return [TeacherAction("move", student=self.student, group=arg)]
        elif ident in ("absent", "present"):
            self.dialog = ""
            return [TeacherAction(ident, student=self.student)]
        elif ident == "revoke":
            self.dialog = ""
            return [TeacherAction("revoke_student", student=self.student)]
        elif ident == "enroll":
            self.dialog, self.page = "enroll", 0
            return [] if view.enrollment.active else [TeacherAction("enroll_start")]
        elif ident == "offer":
            self.dialog, self.badge, self.page = "enroll_pick", arg, 0
        elif ident == "pick":
            self.dialog = "enroll"
            return [TeacherAction("enroll", student=arg, badge=self.badge)]
        elif ident == "enroll_stop":
            self.dialog = ""
            return [TeacherAction("enroll_stop")]
        elif ident == "groups":
            self.dialog = "groups"
        elif ident == "groups_yes":
            self.dialog = ""
            return [TeacherAction("approve_groups")]
        elif ident == "groups_no":
            self.dialog = ""
            return [TeacherAction("reject_groups")]
        elif ident == "page_prev":
            self.page = max(0, self.page - 1)
        elif ident == "page_next":
            self.page += 1
        elif ident == "back":
            self.dialog = {"student": "students", "enroll_pick": "enroll",
                           "groups_students": "groups", "groups_student": "groups_students",
                           "lesson_plan": "lesson"}.get(self.dialog, "")
        elif ident == "close":
            self.dialog, self.pin_entry = "", ""
        return []
