#!/bin/bash -e
# pi-gen: install Classroom Stations into the image. build.sh put files/ here: the project's
# wheel and provisioning/files.
STAGE_FILES="$(dirname "$0")/files"
install -d "${ROOTFS_DIR}/tmp/stations-install"
cp -a "${STAGE_FILES}/." "${ROOTFS_DIR}/tmp/stations-install/"

on_chroot <<- 'EOF2'
	set -e
	cd /tmp/stations-install
	# Every dependency wheel is fetched or built here, for this image's Python and arm64;
	# packages PyPI has only as source (spidev, evdev, lgpio) are compiled here, once.
	wheel="$(ls classroom_stations-*.whl)"
	./build-wheelhouse build --out wheelhouse "/tmp/stations-install/${wheel}[device]"
	install -D -m 0644 wheelhouse/wheelhouse.json /usr/local/share/stations/wheelhouse.json
	# Devices carry no compiler. The build tools go before the project is installed, which
	# also proves that the install needs none.
	export DEBIAN_FRONTEND=noninteractive
	apt-get purge -y -q $(sed -e 's/#.*//' build-packages.txt)
	apt-get autoremove --purge -y -q
	./install.sh --no-apt --wheelhouse wheelhouse
	rm -rf /tmp/stations-install /root/.cache/pip
EOF2

# Stations keep a small root and put their data partition after it (stations-firstboot);
# the hub grows its root with cloud-init's growpart. So Raspberry Pi OS's own first-boot
# resize must not take the whole card.
sed -i 's/ resize\b//' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"
on_chroot <<- 'EOF2'
	systemctl disable rpi-resize.service 2>/dev/null || true
	update-initramfs -u -k all
EOF2
