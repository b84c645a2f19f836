#!/usr/bin/env bash
# Builds the two base images the Dockerfile names, from Debian's packages and
# the local Rust toolchain, for a Docker daemon that cannot pull from Docker Hub
# (an air-gapped machine, a registry mirror that only serves Debian packages):
#
#   debian:bookworm-slim  the runtime stage: `debootstrap --variant=minbase`,
#                         slimmed the way the official image is (no docs, man
#                         pages or locales; apt lists removed), apt sources for
#                         bookworm, bookworm-updates and bookworm-security.
#   rust:1-bookworm       the builder stage: a minbase bookworm with gcc,
#                         libc6-dev, ca-certificates and pkg-config, plus the
#                         host's rustup toolchain (without its HTML docs) laid
#                         out as in the official image: RUSTUP_HOME=/usr/local/rustup,
#                         CARGO_HOME=/usr/local/cargo, cargo/rustc on PATH as
#                         rustup proxies in /usr/local/cargo/bin.
#
# Requirements: root, `debootstrap` (apt-get install debootstrap), a running
# Docker daemon, a rustup toolchain on this machine, and the Debian mirror.
# The crates are not baked in: `docker build` fetches them from crates.io.
#
#   scripts/container-local-bases.sh            # both images
#   scripts/container-local-bases.sh runtime    # only debian:bookworm-slim
#   scripts/container-local-bases.sh builder    # only rust:1-bookworm
#
# Then, in the repository: `docker build -t understudy .` (see README, "In a
# container"). Settings (environment):
#   MIRROR          Debian mirror            (default http://deb.debian.org/debian)
#   SECURITY_MIRROR Debian security mirror   (default http://deb.debian.org/debian-security)
#   SUITE           Debian suite             (default bookworm)
#   RUSTUP_SRC      rustup home to copy from (default ${RUSTUP_HOME:-$HOME/.rustup})
#   TOOLCHAIN       toolchain to copy        (default: rustup's default toolchain)
#   RUNTIME_TAG     (default debian:bookworm-slim)   BUILDER_TAG (default rust:1-bookworm)
#   EXTRA_CA_DIR    extra CA roots (*.crt) the builder trusts, for a network whose
#                   HTTPS goes through an intercepting proxy (cargo fetching crates
#                   fails with "self-signed certificate in certificate chain" without
#                   them); default /usr/local/share/ca-certificates, this machine's own
#                   additions; empty for none. Only the builder gets them, not the
#                   runtime image.
#   WORK            scratch folder for the root filesystems (default: a new /tmp folder,
#                   deleted at the end; about 1.5 GB while the builder is made)
#   DOCKER          docker client            (default: docker)
set -euo pipefail

MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=${SUITE:-bookworm}
EXTRA_CA_DIR=${EXTRA_CA_DIR-/usr/local/share/ca-certificates}
RUSTUP_SRC=${RUSTUP_SRC:-${RUSTUP_HOME:-$HOME/.rustup}}
RUNTIME_TAG=${RUNTIME_TAG:-debian:bookworm-slim}
BUILDER_TAG=${BUILDER_TAG:-rust:1-bookworm}
DOCKER=${DOCKER:-docker}
what=${1:-all}

case "$what" in
  all | runtime | builder) ;;
  *)
    echo "usage: $0 [all|runtime|builder]" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: debootstrap needs root" >&2
  exit 1
fi
command -v debootstrap >/dev/null || {
  echo "$0: debootstrap not found (apt-get install debootstrap)" >&2
  exit 1
}
"$DOCKER" info >/dev/null || {
  echo "$0: no Docker daemon answers '$DOCKER info'" >&2
  exit 1
}

own_work=0
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/understudy-bases.XXXXXX)
  own_work=1
fi
cleanup() {
  if [ "$own_work" = 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A minbase root filesystem in $1 with the extra packages $2 (comma-separated).
bootstrap() {
  local dir=$1 include=${2:-}
  rm -rf "$dir"
  mkdir -p "$dir"
  debootstrap --variant=minbase ${include:+--include="$include"} "$SUITE" "$dir" "$MIRROR"
  # The official slim image's dpkg filters, for what apt installs later; what
  # debootstrap unpacked is trimmed the same way just below.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$dir"/usr/share/{groff,info,linda,lintian,locale,man}/*
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # As the official images: no cached .debs or lists, no host identity.
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
  echo 'APT::Install-Recommends "false";' >"$dir/etc/apt/apt.conf.d/docker-no-recommends"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  rm -f "$dir/etc/resolv.conf" "$dir/etc/hostname"
  : >"$dir/etc/hostname"
}

# Adds the CA roots of $EXTRA_CA_DIR to the root filesystem $1's trust store.
trust_extra_cas() {
  local dir=$1 crt added=0
  [ -n "$EXTRA_CA_DIR" ] && [ -d "$EXTRA_CA_DIR" ] || return 0
  for crt in "$EXTRA_CA_DIR"/*.crt; do
    [ -f "$crt" ] || continue
    install -m 0644 "$crt" "$dir/usr/local/share/ca-certificates/"
    echo "builder trusts $(basename "$crt") (from $EXTRA_CA_DIR)"
    added=1
  done
  if [ "$added" = 1 ]; then chroot "$dir" update-ca-certificates; fi
}

# Imports the root filesystem $1 as image $2; the rest are `docker import -c` changes.
import() {
  local dir=$1 tag=$2
  shift 2
  local changes=()
  for change in "$@"; do changes+=(-c "$change"); done
  tar --numeric-owner -C "$dir" -c . | "$DOCKER" import "${changes[@]}" - "$tag"
  echo "imported $tag"
}

build_runtime() {
  local dir=$WORK/runtime
  bootstrap "$dir"
  import "$dir" "$RUNTIME_TAG" 'CMD ["bash"]'
  rm -rf "$dir"
}

build_builder() {
  local dir=$WORK/builder
  local toolchain=${TOOLCHAIN:-}
  if [ -z "$toolchain" ]; then
    toolchain=$(sed -n 's/^default_toolchain = "\(.*\)"/\1/p' "$RUSTUP_SRC/settings.toml")
  fi
  local src=$RUSTUP_SRC/toolchains/$toolchain
  [ -x "$src/bin/cargo" ] || {
    echo "$0: no toolchain at $src (set RUSTUP_SRC / TOOLCHAIN)" >&2
    exit 1
  }
  local rustup_bin
  rustup_bin=$(command -v rustup || true)
  [ -n "$rustup_bin" ] || rustup_bin=${CARGO_HOME:-$HOME/.cargo}/bin/rustup
  [ -x "$rustup_bin" ] || {
    echo "$0: no rustup binary found" >&2
    exit 1
  }
  local version
  version=$("$src/bin/rustc" --version | awk '{print $2}')
  local triple=${toolchain#*-}
  local name=$version-$triple

  bootstrap "$dir" ca-certificates,gcc,libc6-dev,pkg-config
  trust_extra_cas "$dir"
  # The toolchain under its version name, as the official image installs it.
  mkdir -p "$dir/usr/local/rustup/toolchains" "$dir/usr/local/cargo/bin"
  mkdir "$dir/usr/local/rustup/toolchains/$name"
  tar -C "$src" --exclude=./share/doc -c . | tar -C "$dir/usr/local/rustup/toolchains/$name" -x
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\nauto_self_update = "disable"\n' \
    "$name" >"$dir/usr/local/rustup/settings.toml"
  install -m 0755 "$rustup_bin" "$dir/usr/local/cargo/bin/rustup"
  local proxy
  for proxy in cargo cargo-clippy cargo-fmt clippy-driver rustc rustdoc rustfmt rust-gdb rust-lldb; do
    ln "$dir/usr/local/cargo/bin/rustup" "$dir/usr/local/cargo/bin/$proxy"
  done
  chmod -R a+w "$dir/usr/local/rustup" "$dir/usr/local/cargo"
  import "$dir" "$BUILDER_TAG" \
    'ENV RUSTUP_HOME=/usr/local/rustup' \
    'ENV CARGO_HOME=/usr/local/cargo' \
    'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "ENV RUST_VERSION=$version" \
    'CMD ["bash"]'
  rm -rf "$dir"
  # The image must compile and run a program, as the Dockerfile's builder does.
  "$DOCKER" run --rm "$BUILDER_TAG" sh -c \
    'cd /tmp && cargo new -q --vcs none probe && cd probe && cargo run -q --offline' | grep -qx 'Hello, world!'
  echo "$BUILDER_TAG: cargo builds and runs a program ($version)"
}

case "$what" in
  runtime) build_runtime ;;
  builder) build_builder ;;
  all)
    build_runtime
    build_builder
    ;;
esac
"$DOCKER" images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E "^($RUNTIME_TAG|$BUILDER_TAG) " || true
