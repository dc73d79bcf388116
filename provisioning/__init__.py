"""Provisioning: from a school's inventory to SD cards that set themselves up (issue 8).

``stations provision`` writes each device's cloud-init files; ``files/`` holds what the image
installs on the device (systemd units, install, first-boot and release scripts); ``pi-gen/``
builds the image; ``stations imager-json`` writes the Raspberry Pi Imager repository file.
"""
