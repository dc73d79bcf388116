"""Badge readers behind one interface (:class:`~kiosk.readers.base.BadgeReader`)."""

from kiosk.readers.base import BadgeReader, BadgeTap, TapFilter, normalise_badge

__all__ = ["BadgeReader", "BadgeTap", "TapFilter", "normalise_badge"]
