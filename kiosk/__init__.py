"""The station kiosk: badge readers, the touch UI, feedback lights and the durable outbox.

Importing this package (or any module in it) has no side effects and works off a Pi.
"""
