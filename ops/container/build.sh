#!/usr/bin/env bash
# Builds localhost/sluice:0.1.0 from ops/container/Containerfile. The base is a Debian bookworm root filesystem made
# here with mmdebstrap from the machine's Debian mirror (once: skipped while the image exists), unless SLUICE_BASE
# names another, e.g. SLUICE_BASE=docker.io/library/node:24-bookworm-slim where the official image can be pulled.
# Arguments go to `podman build`: bash ops/container/build.sh --build-arg WITH_FFMPEG=false
# Podman's layer cache makes a rebuild after a source change take seconds; a lock file or patch change rebuilds the
# Kafka client (minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGE="${SLUICE_IMAGE:-localhost/sluice:0.1.0}"
BASE="${SLUICE_BASE:-localhost/sluice-debian:bookworm}"
# On these machines: runc (crun fails), the host's network, and limits within the machine's own hard limits.
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
LIMITS=(--ulimit nofile=16384:16384 --ulimit nproc=4096:4096)

say() { printf '\033[1m[container]\033[0m %s\n' "$*"; }

bash "$ROOT/ops/container/tools.sh"

if [ "$BASE" = localhost/sluice-debian:bookworm ] && ! "${PODMAN[@]}" image exists "$BASE"; then
  # The first of the machine's Debian sources (deb822 or one-line); bookworm's updates and security suites with it.
  sources="$(grep -lsE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list | head -1 || true)"
  say "making $BASE with mmdebstrap (variant apt: the essential packages and apt) from ${sources:-deb.debian.org}"
  # Through a file, so that a failed mmdebstrap leaves no image behind.
  rootfs="$(mktemp --suffix=.tar)"
  trap 'rm -f "$rootfs"' EXIT
  mmdebstrap --variant=apt --format=tar --quiet \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm "$rootfs" ${sources:+"$sources"}
  "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' "$rootfs" "$BASE" >/dev/null
fi

say "building $IMAGE on $BASE"
# The machine's CA bundle, for HTTPS to the npm registry (behind an egress proxy with its own CA, here).
"${PODMAN[@]}" build --network host "${LIMITS[@]}" --build-arg "BASE=$BASE" \
  --secret "id=ca,src=${SLUICE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" \
  -f "$ROOT/ops/container/Containerfile" -t "$IMAGE" "$@" "$ROOT"
