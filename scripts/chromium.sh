#!/usr/bin/env bash
# Find (or install) a headless-capable Chromium for the HTML report test
# (cli/tests/html_report.rs) and print its path as the LAST line on stdout.
# Everything else goes to stderr.
#
#   scripts/chromium.sh
#
# Order: $UNDERSTUDY_CHROMIUM if set; then chromium / chromium-browser /
# google-chrome on PATH; then, only when running as root on a Debian-like
# system, `apt-get install chromium` (Debian's package; `apt-get update`
# first). Otherwise it exits 1 saying why, and the test fails in CI (CI=true)
# or says why it did not run elsewhere. Safe to call concurrently (flock, if
# present).
set -euo pipefail

log() { printf 'chromium: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ -n "${UNDERSTUDY_CHROMIUM:-}" ]; then
  [ -x "$UNDERSTUDY_CHROMIUM" ] || die "UNDERSTUDY_CHROMIUM=$UNDERSTUDY_CHROMIUM is not an executable"
  log "using $UNDERSTUDY_CHROMIUM (UNDERSTUDY_CHROMIUM)"
  echo "$UNDERSTUDY_CHROMIUM"
  exit 0
fi

find_chromium() {
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if path="$(find_chromium)"; then
  log "using $path"
  echo "$path"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "no chromium on PATH and not root, so it cannot be installed here (install Debian's 'chromium' package, or set UNDERSTUDY_CHROMIUM)"
command -v apt-get >/dev/null 2>&1 || die "no chromium on PATH and no apt-get to install it (set UNDERSTUDY_CHROMIUM)"

if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/understudy-chromium.lock"
  log "waiting for lock"
  flock 9
  if path="$(find_chromium)"; then  # a concurrent run installed it meanwhile
    log "using $path (installed by a concurrent run)"
    echo "$path"
    exit 0
  fi
fi

log "installing Debian's chromium package (apt-get update, then install)"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || die "apt-get update failed"
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >&2 \
  || die "apt-get install chromium failed"
path="$(find_chromium)" || die "chromium installed but not found on PATH"
log "installed $path"
echo "$path"
