#!/usr/bin/env bash
# The container tools, from Debian: podman with runc (crun fails on these machines; naming runc keeps apt from
# choosing crun for podman), and mmdebstrap (the base image's root filesystem, from the machine's Debian mirror).
# As root, podman needs nothing else here: the kernel's overlay driver works, and containers use the host's network.
# Installed only when missing, only as root. Idempotent: a second run on a ready machine only checks.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../toolchain/debian-packages.sh"
ensure_packages podman runc mmdebstrap
