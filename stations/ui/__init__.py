"""Drawing shared by the kiosk screens and the hub display (the only modules that use pygame)."""
