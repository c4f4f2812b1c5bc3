#!/usr/bin/env bash
# Installs the Debian packages the host needs; does nothing when all are installed.
# sparks-include: lib/packages.sh
install_missing_packages "${PACKAGES[@]}"
