# Sourced: ensure_packages PACKAGE... installs the Debian packages that are missing (only as root; otherwise it
# names them and fails). Idempotent: on a ready machine it only checks. Used by env.sh and ops/container/tools.sh.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    printf 'missing Debian packages: %s (run as root, or: sudo apt-get install %s)\n' "${missing[*]}" "${missing[*]}" >&2
    return 1
  fi
  printf 'installing Debian packages: %s\n' "${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
