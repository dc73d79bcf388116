"""A small painter over a pygame surface: text, panels, big buttons and vector icons.

Both displays draw only through it, so their screen modules stay free of pygame. Colours come
by role from the Okabe-Ito palette (distinguishable with every common colour-blindness) on a
high-contrast ground; meaning is always carried by an icon and a word as well. Text is set in
Atkinson Hyperlegible (``fonts/``), shipped with the code so every device draws the same
letters; a text too wide for its place is set in a smaller size, never squeezed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygame

if TYPE_CHECKING:
    from stations.ui.widgets import Button

FONT = Path(__file__).with_name("fonts") / "AtkinsonHyperlegible-Bold.ttf"
#: Sizes are given as for pygame's old default font; this sets ours at the same cap height.
FONT_SCALE = 0.7
#: Below this a label stops shrinking (it may then be cut by its button's edge).
MIN_TEXT = 10

#: Okabe & Ito (2008), "Color Universal Design": the names stations and avatars use.
OKABE_ITO: dict[str, tuple[int, int, int]] = {
    "orange": (230, 159, 0),
    "sky": (86, 180, 233),
    "green": (0, 158, 115),
    "yellow": (240, 228, 66),
    "blue": (0, 114, 178),
    "vermillion": (213, 94, 0),
    "purple": (204, 121, 167),
    "black": (0, 0, 0),
}
#: Station colours light enough to need a dark icon on them.
LIGHT_COLOURS = {"orange", "sky", "yellow", "purple"}

PALETTE: dict[str, tuple[int, int, int]] = {
    "background": (250, 248, 242),
    "text": (25, 30, 45),
    "muted": (95, 100, 115),
    "accent": OKABE_ITO["blue"],
    "good": OKABE_ITO["green"],
    "warn": OKABE_ITO["vermillion"],
    "bar": (30, 45, 80),
    "bar_text": (245, 245, 250),
    "button": (225, 235, 250),
    "button_edge": OKABE_ITO["blue"],
    "panel": (236, 238, 244),
    "notice": OKABE_ITO["orange"],
    "notice_text": (25, 30, 45),
    "on_colour": (255, 255, 255),
    **OKABE_ITO,
}

Gettext = Callable[[str], str]


class Painter:
    def __init__(self, surface: pygame.Surface, gettext: Gettext = str) -> None:
        self.surface = surface
        self._ = gettext
        self._fonts: dict[int, pygame.font.Font] = {}

    # --- text ------------------------------------------------------------------------------

    def font(self, size: int) -> pygame.font.Font:
        size = max(MIN_TEXT, int(size))
        if size not in self._fonts:
            self._fonts[size] = pygame.font.Font(FONT, max(1, round(size * FONT_SCALE)))
        return self._fonts[size]

    def fit(self, text: str, size: int, max_w: int) -> int:
        """The largest size up to ``size`` at which ``text`` is at most ``max_w`` wide."""
        size = max(MIN_TEXT, int(size))
        while size > MIN_TEXT:
            width = self.font(size).size(text)[0]
            if width <= max_w:
                break
            size = max(MIN_TEXT, min(size - 1, int(size * max_w / width)))
        return size

    def common_size(self, texts: Sequence[str], size: int, max_w: int) -> int:
        """One size for several texts of a kind (a row of buttons): the largest all fit at."""
        return min((self.fit(t, size, max_w) for t in texts), default=int(size))

    def text(self, text: str, x: int, y: int, size: int, role: str = "text",
             anchor: str = "center", max_w: int | None = None) -> pygame.Rect:
        limit = max_w or self.surface.get_width() - 16
        image = self.font(self.fit(text, size, limit)).render(text, True, PALETTE[role])
        rect = image.get_rect(**{anchor: (x, y)})
        self.surface.blit(image, rect)
        return rect

    # --- shapes ------------------------------------------------------------------------------

    def fill(self, role: str) -> None:
        self.surface.fill(PALETTE[role])

    def panel(self, x: int, y: int, w: int, h: int, role: str = "panel",
              radius: int = 0) -> None:
        pygame.draw.rect(self.surface, PALETTE[role], (x, y, w, h), border_radius=radius)

    def outline(self, x: int, y: int, w: int, h: int, role: str, width: int,
                radius: int = 0) -> None:
        pygame.draw.rect(self.surface, PALETTE[role], (x, y, w, h), width=width,
                         border_radius=radius)

    def disc(self, cx: int, cy: int, r: int, role: str) -> None:
        """A filled circle in a palette colour, with a dark rim so yellow shows on white."""
        pygame.draw.circle(self.surface, PALETTE.get(role, PALETTE["accent"]), (cx, cy), r)
        pygame.draw.circle(self.surface, PALETTE["text"], (cx, cy), r, max(1, r // 16))

    def swatch(self, colour: str, cx: int, cy: int, r: int, icon: str) -> None:
        """A station: a disc in its colour (grey if it has none) with its icon on top, in
        white or black, whichever shows: the colour is never the only cue."""
        pygame.draw.circle(self.surface, OKABE_ITO.get(colour, PALETTE["muted"]), (cx, cy), r)
        # A dark rim: an orange station still shows on an orange notice strip.
        pygame.draw.circle(self.surface, PALETTE["text"], (cx, cy), r, max(1, r // 12))
        self.icon(icon, cx, cy, int(r * 1.2), "text" if colour in LIGHT_COLOURS else "bar_text")

    def stripe(self, colour: str, x: int, y: int, w: int, h: int, radius: int = 0) -> None:
        pygame.draw.rect(self.surface, OKABE_ITO.get(colour, PALETTE["muted"]), (x, y, w, h),
                         border_radius=radius)

    def shade(self, alpha: int = 150) -> None:
        veil = pygame.Surface(self.surface.get_size(), pygame.SRCALPHA)
        veil.fill((20, 25, 40, alpha))
        self.surface.blit(veil, (0, 0))

    # --- buttons -----------------------------------------------------------------------------

    def label_size(self, button: Button) -> int:
        """The label size a big button of this height starts from: 28 to 40 on a kiosk's
        screen, smaller only in a small window (the demo's room on one screen)."""
        if button.w >= 2 * button.h:  # a wide one (Next, Done): the word beside the picture
            return min(44, button.h * 2 // 5)
        return max(min(36, button.h // 4), min(28, button.h // 3))

    def buttons(self, buttons: Sequence[Button], labels: Sequence[str]) -> None:
        """A row of big buttons (icon above, word below), every label in one size."""
        if not buttons:
            return
        size = min(self.common_size([label], self.label_size(b), b.w - 16)
                   for b, label in zip(buttons, labels, strict=True))
        for b, label in zip(buttons, labels, strict=True):
            self.button(b, label, size)

    def button(self, button: Button, label: str, size: int | None = None) -> None:
        rect = pygame.Rect(button.x, button.y, button.w, button.h)
        pygame.draw.rect(self.surface, PALETTE["button"], rect, border_radius=22)
        pygame.draw.rect(self.surface, PALETTE["button_edge"], rect, width=4, border_radius=22)
        size = size or self.label_size(button)
        if button.w >= 2 * button.h:  # picture and word side by side, centred together
            picture, gap = button.h // 2, button.h // 6
            room = button.w - picture - gap - button.h // 3
            size = self.fit(label, size, room)
            left = rect.centerx - (picture + gap + self.font(size).size(label)[0]) // 2
            self.icon(button.icon, left + picture // 2, rect.centery, picture, "accent")
            self.text(label, left + picture + gap, rect.centery, size, "text",
                      anchor="midleft", max_w=room)
            return
        # The picture in the upper part, the word below it: never touching, at any size.
        icon_size = min(button.w, button.h) * 0.44
        self.icon(button.icon, rect.centerx, int(rect.y + button.h * 0.38), int(icon_size),
                  "accent")
        self.text(label, rect.centerx, rect.bottom - button.h // 5, size, "text",
                  max_w=button.w - 16)

    def icon_button(self, button: Button) -> None:
        """A button that is only a picture (the "hear it" loudspeaker): same frame as the
        labelled ones, the icon filling it."""
        rect = pygame.Rect(button.x, button.y, button.w, button.h)
        pygame.draw.rect(self.surface, PALETTE["button"], rect, border_radius=18)
        pygame.draw.rect(self.surface, PALETTE["button_edge"], rect, width=4, border_radius=18)
        self.icon(button.icon, rect.centerx, rect.centery, int(min(button.w, button.h) * 0.7),
                  "accent")

    def icon(self, name: str, cx: int, cy: int, size: int, role: str = "accent") -> None:
        draw = getattr(self, f"_icon_{name}", self._icon_star)
        draw(cx, cy, size / 2, PALETTE.get(role, PALETTE["accent"]))

    # --- icons: each draws centred on (cx, cy) within radius r ---------------------------------

    def _line_w(self, r: float) -> int:
        return max(2, int(r / 7))

    def _icon_badge(self, cx: int, cy: int, r: float, c: Any) -> None:
        card = pygame.Rect(0, 0, int(r * 1.3), int(r * 1.8))
        card.center = (cx, int(cy + r * 0.1))
        pygame.draw.rect(self.surface, c, card, width=self._line_w(r), border_radius=int(r / 6))
        pygame.draw.circle(self.surface, c, (cx, int(cy - r * 0.25)), int(r * 0.25),
                           self._line_w(r))
        pygame.draw.line(self.surface, c, (cx - r * 0.35, cy + r * 0.35),
                         (cx + r * 0.35, cy + r * 0.35), self._line_w(r))
        for k in (1, 2, 3):  # the contactless waves
            arc = pygame.Rect(0, 0, int(r * 0.5 * k), int(r * 0.5 * k))
            arc.center = (int(cx + r * 0.8), int(cy - r * 0.8))
            pygame.draw.arc(self.surface, c, arc, -0.6, 0.9, self._line_w(r) // 2 + 1)

    def _face(self, cx: int, cy: int, r: float, c: Any, mouth: float) -> None:
        """A face whose mouth curves by ``mouth`` (-1 a frown, 0 flat, 1 a smile)."""
        w = self._line_w(r)
        pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.9), w)
        for dx in (-0.32, 0.32):
            pygame.draw.circle(self.surface, c, (int(cx + dx * r), int(cy - r * 0.25)),
                               max(2, int(r * 0.1)))
        y = cy + r * 0.35
        if mouth == 0:
            pygame.draw.line(self.surface, c, (cx - r * 0.35, y), (cx + r * 0.35, y), w)
            return
        pts = [(cx + r * 0.4 * t, y + mouth * r * 0.2 * (1 - t * t)) for t in
               (x / 10 for x in range(-10, 11))]
        pygame.draw.lines(self.surface, c, False, pts, w)

    def _icon_face_unsure(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._face(cx, cy, r, c, -1)

    def _icon_face_ok(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._face(cx, cy, r, c, 0)

    def _icon_face_smile(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._face(cx, cy, r, c, 1)

    def _icon_face_happy(self, cx: int, cy: int, r: float, c: Any) -> None:
        """Beaming, unlike the plain smile: eyes shut in joy, a wide open mouth, a sparkle."""
        w = self._line_w(r)
        pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.9), w)
        for dx in (-0.32, 0.32):  # happy eyes: upward arcs
            eye = pygame.Rect(0, 0, int(r * 0.36), int(r * 0.3))
            eye.center = (int(cx + dx * r), int(cy - r * 0.2))
            pygame.draw.arc(self.surface, c, eye, 0, math.pi, w)
        mouth = [(cx - r * 0.5, cy + r * 0.12), (cx + r * 0.5, cy + r * 0.12)]
        mouth += [(cx + r * 0.5 * math.cos(a), cy + r * 0.12 + r * 0.5 * math.sin(a))
                  for a in (k * math.pi / 12 for k in range(13))]
        pygame.draw.polygon(self.surface, c, mouth)
        self._icon_star(int(cx + r * 0.95), int(cy - r * 0.85), r * 0.32, c)

    def _icon_face_tired(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = self._line_w(r)
        pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.9), w)
        for dx in (-0.32, 0.32):  # closed eyes
            x = cx + dx * r
            pygame.draw.line(self.surface, c, (x - r * 0.12, cy - r * 0.25),
                             (x + r * 0.12, cy - r * 0.25), w)
        pygame.draw.circle(self.surface, c, (cx, int(cy + r * 0.4)), max(2, int(r * 0.12)), w)

    def _progress(self, cx: int, cy: int, r: float, c: Any, quarters: int) -> None:
        w = self._line_w(r)
        pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.85), w)
        if quarters >= 4:
            pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.85))
            return
        if quarters > 0:
            pts = [(cx, cy)] + [(cx + r * 0.85 * math.sin(a), cy - r * 0.85 * math.cos(a))
                                for a in (k * math.pi / 24 for k in range(12 * quarters + 1))]
            pygame.draw.polygon(self.surface, c, pts)

    def _icon_progress_0(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._progress(cx, cy, r, c, 0)

    def _icon_progress_1(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._progress(cx, cy, r, c, 1)

    def _icon_progress_2(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._progress(cx, cy, r, c, 3)

    def _icon_progress_3(self, cx: int, cy: int, r: float, c: Any) -> None:
        self._progress(cx, cy, r, c, 4)

    def _icon_speaker(self, cx: int, cy: int, r: float, c: Any) -> None:
        # a loudspeaker with two sound waves: "hear it"
        pygame.draw.rect(self.surface, c, (cx - r * 0.85, cy - r * 0.25, r * 0.35, r * 0.5))
        pygame.draw.polygon(self.surface, c, [(cx - r * 0.55, cy - r * 0.25),
                                              (cx - r * 0.05, cy - r * 0.7),
                                              (cx - r * 0.05, cy + r * 0.7),
                                              (cx - r * 0.55, cy + r * 0.25)])
        w = self._line_w(r)
        for k in (1, 2):
            arc = pygame.Rect(0, 0, int(r * 0.55 * k), int(r * 0.9 * k))
            arc.center = (int(cx + r * 0.05), cy)
            pygame.draw.arc(self.surface, c, arc, -1.0, 1.0, w)

    def _icon_pause(self, cx: int, cy: int, r: float, c: Any) -> None:
        for dx in (-0.45, 0.15):
            pygame.draw.rect(self.surface, c, (cx + dx * r, cy - r * 0.7, r * 0.3, r * 1.4))

    def _icon_check(self, cx: int, cy: int, r: float, c: Any) -> None:
        pts = [(cx - r * 0.7, cy), (cx - r * 0.2, cy + r * 0.5), (cx + r * 0.75, cy - r * 0.55)]
        pygame.draw.lines(self.surface, c, False, pts, max(4, int(r / 4)))

    def _icon_arrow_right(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = max(4, int(r / 4))
        pygame.draw.line(self.surface, c, (cx - r * 0.8, cy), (cx + r * 0.6, cy), w)
        pygame.draw.polygon(self.surface, c, [(cx + r * 0.9, cy), (cx + r * 0.3, cy - r * 0.5),
                                              (cx + r * 0.3, cy + r * 0.5)])

    def _icon_arrow_down(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = max(4, int(r / 4))
        pygame.draw.line(self.surface, c, (cx, cy - r * 0.8), (cx, cy + r * 0.4), w)
        pygame.draw.polygon(self.surface, c, [(cx, cy + r * 0.9), (cx - r * 0.5, cy + r * 0.3),
                                              (cx + r * 0.5, cy + r * 0.3)])

    def _icon_question(self, cx: int, cy: int, r: float, c: Any) -> None:
        pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.95), self._line_w(r))
        self.text("?", cx, int(cy + r * 0.05), int(r * 1.6), "accent")

    def _icon_wave(self, cx: int, cy: int, r: float, c: Any) -> None:
        # an open hand: palm and four fingers
        pygame.draw.ellipse(self.surface, c, (cx - r * 0.45, cy - r * 0.05, r * 0.9, r * 0.85))
        for k, dx in enumerate((-0.36, -0.12, 0.12, 0.36)):
            h = r * (0.75 if k in (1, 2) else 0.62)
            pygame.draw.rect(self.surface, c, (cx + dx * r - r * 0.09, cy - h + r * 0.1,
                                               r * 0.18, h), border_radius=int(r * 0.09))
        pygame.draw.polygon(self.surface, c, [(cx - r * 0.45, cy + r * 0.3),
                                              (cx - r * 0.85, cy - r * 0.05),
                                              (cx - r * 0.7, cy - r * 0.2),
                                              (cx - r * 0.35, cy + r * 0.05)])

    def _icon_pin(self, cx: int, cy: int, r: float, c: Any) -> None:
        pygame.draw.circle(self.surface, c, (cx, int(cy - r * 0.25)), int(r * 0.55))
        pygame.draw.polygon(self.surface, c, [(cx - r * 0.5, cy - r * 0.05),
                                              (cx + r * 0.5, cy - r * 0.05), (cx, cy + r * 0.9)])
        pygame.draw.circle(self.surface, PALETTE["background"], (cx, int(cy - r * 0.25)),
                           max(2, int(r * 0.2)))

    def _icon_clock(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = self._line_w(r)
        pygame.draw.circle(self.surface, c, (cx, cy), int(r * 0.9), w)
        pygame.draw.line(self.surface, c, (cx, cy), (cx, cy - r * 0.6), w)
        pygame.draw.line(self.surface, c, (cx, cy), (cx + r * 0.45, cy), w)

    def _icon_offline(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = self._line_w(r)
        for k, radius in enumerate((0.9, 0.6, 0.3)):  # wifi fan
            arc = pygame.Rect(0, 0, int(2 * r * radius), int(2 * r * radius))
            arc.center = (cx, int(cy + r * 0.5))
            pygame.draw.arc(self.surface, c, arc, math.pi / 4, 3 * math.pi / 4, w)
            del k
        pygame.draw.line(self.surface, c, (cx - r * 0.8, cy - r * 0.8),
                         (cx + r * 0.8, cy + r * 0.8), w + 1)

    def _icon_fault(self, cx: int, cy: int, r: float, c: Any) -> None:
        pygame.draw.polygon(self.surface, c, [(cx, cy - r * 0.9), (cx + r * 0.9, cy + r * 0.75),
                                              (cx - r * 0.9, cy + r * 0.75)], self._line_w(r))
        self.text("!", cx, int(cy + r * 0.15), int(r * 1.2), "warn")

    def _icon_hourglass(self, cx: int, cy: int, r: float, c: Any) -> None:
        """Time running out (a countdown), never a clock face (the time of day)."""
        w = self._line_w(r)
        top, bottom, half = cy - r * 0.85, cy + r * 0.85, r * 0.55
        pygame.draw.line(self.surface, c, (cx - half - w, top), (cx + half + w, top), w + 1)
        pygame.draw.line(self.surface, c, (cx - half - w, bottom), (cx + half + w, bottom),
                         w + 1)
        pygame.draw.lines(self.surface, c, True, [(cx - half, top), (cx + half, top),
                                                  (cx + r * 0.08, cy), (cx + half, bottom),
                                                  (cx - half, bottom), (cx - r * 0.08, cy)], w)
        # sand: a little left above, a heap below
        pygame.draw.polygon(self.surface, c, [(cx - half * 0.45, cy - r * 0.3),
                                              (cx + half * 0.45, cy - r * 0.3), (cx, cy)])
        pygame.draw.polygon(self.surface, c, [(cx - half * 0.85, bottom), (cx + half * 0.85,
                                              bottom), (cx, bottom - r * 0.45)])

    def _icon_teacher(self, cx: int, cy: int, r: float, c: Any) -> None:
        pygame.draw.circle(self.surface, c, (int(cx - r * 0.3), int(cy - r * 0.45)),
                           int(r * 0.3))
        pygame.draw.rect(self.surface, c, (cx - r * 0.65, cy - r * 0.1, r * 0.7, r),
                         border_radius=int(r * 0.2))
        pygame.draw.rect(self.surface, c, (cx + r * 0.15, cy - r * 0.8, r * 0.75, r * 0.55),
                         self._line_w(r))

    def _icon_book(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = self._line_w(r)
        pygame.draw.polygon(self.surface, c, [(cx, cy - r * 0.5), (cx - r * 0.9, cy - r * 0.7),
                                              (cx - r * 0.9, cy + r * 0.6), (cx, cy + r * 0.8)], w)
        pygame.draw.polygon(self.surface, c, [(cx, cy - r * 0.5), (cx + r * 0.9, cy - r * 0.7),
                                              (cx + r * 0.9, cy + r * 0.6), (cx, cy + r * 0.8)], w)

    def _icon_laptop(self, cx: int, cy: int, r: float, c: Any) -> None:
        pygame.draw.rect(self.surface, c, (cx - r * 0.7, cy - r * 0.7, r * 1.4, r * 0.95),
                         self._line_w(r), border_radius=int(r * 0.08))
        pygame.draw.rect(self.surface, c, (cx - r, cy + r * 0.35, r * 2, r * 0.22),
                         border_radius=int(r * 0.08))

    def _icon_people(self, cx: int, cy: int, r: float, c: Any) -> None:
        for dx in (-0.45, 0.45):
            x = cx + dx * r
            pygame.draw.circle(self.surface, c, (int(x), int(cy - r * 0.4)), int(r * 0.28))
            pygame.draw.ellipse(self.surface, c, (x - r * 0.4, cy - r * 0.05, r * 0.8, r * 0.9))

    def _icon_pencil(self, cx: int, cy: int, r: float, c: Any) -> None:
        w = max(4, int(r / 3))
        pygame.draw.line(self.surface, c, (cx - r * 0.6, cy + r * 0.6),
                         (cx + r * 0.7, cy - r * 0.7), w)
        pygame.draw.polygon(self.surface, c, [(cx - r * 0.85, cy + r * 0.85),
                                              (cx - r * 0.75, cy + r * 0.35),
                                              (cx - r * 0.35, cy + r * 0.75)])

    def _icon_puzzle(self, cx: int, cy: int, r: float, c: Any) -> None:
        pygame.draw.rect(self.surface, c, (cx - r * 0.7, cy - r * 0.5, r * 1.2, r * 1.2),
                         border_radius=int(r * 0.1))
        pygame.draw.circle(self.surface, c, (int(cx - r * 0.1), int(cy - r * 0.6)),
                           int(r * 0.25))
        pygame.draw.circle(self.surface, c, (int(cx + r * 0.6), int(cy + r * 0.1)),
                           int(r * 0.25))

    def _icon_headphones(self, cx: int, cy: int, r: float, c: Any) -> None:
        arc = pygame.Rect(0, 0, int(r * 1.6), int(r * 1.6))
        arc.center = (cx, cy)
        pygame.draw.arc(self.surface, c, arc, 0, math.pi, self._line_w(r))
        for dx in (-0.8, 0.55):
            pygame.draw.rect(self.surface, c, (cx + dx * r, cy, r * 0.25, r * 0.6),
                             border_radius=int(r * 0.1))

    def _icon_star(self, cx: int, cy: int, r: float, c: Any) -> None:
        pts = []
        for k in range(10):
            radius = r * (0.9 if k % 2 == 0 else 0.38)
            angle = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        pygame.draw.polygon(self.surface, c, pts)
