"""An RGB LED on three PWM channels (common cathode: higher duty = brighter)."""


class RGBLed:
    def __init__(self, red, green, blue, common_anode=False, freq=1000):
        """``red``/``green``/``blue`` are machine.PWM objects."""
        self._pwms = (red, green, blue)
        self._invert = common_anode
        self.rgb = (0, 0, 0)
        for pwm in self._pwms:
            pwm.freq(freq)
        self.set(0, 0, 0)

    def set(self, r, g, b):
        """Colour as 0-255 per channel."""
        self.rgb = (r, g, b)
        for pwm, level in zip(self._pwms, self.rgb, strict=False):
            duty = level * 257  # 0-255 -> 0-65535
            pwm.duty_u16(65535 - duty if self._invert else duty)

    def off(self):
        self.set(0, 0, 0)
