"""A passive piezo buzzer on one PWM channel."""


class Buzzer:
    def __init__(self, pwm):
        self._pwm = pwm
        self.freq = 0
        self.off()

    def tone(self, freq):
        self.freq = freq
        self._pwm.freq(freq)
        self._pwm.duty_u16(32768)  # square wave: loudest for a piezo

    def off(self):
        self.freq = 0
        self._pwm.duty_u16(0)
