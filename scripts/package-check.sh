#!/usr/bin/env bash
# `cargo package` for every publishable crate of the workspace, in dependency
# order (cargo orders the workspace's crates and resolves each one's
# dependencies on its siblings from the packages it made before), then checks
# what crates.io would receive: one .crate per publishable member, each under
# crates.io's 10 MiB upload limit, each carrying README.md and LICENSE, and
# no dependency without a version.
#
#   scripts/package-check.sh            # --no-verify: tarballs and manifests, about a minute
#   scripts/package-check.sh --verify   # also build each crate from its tarball alone
#                                       # (a full build of every crate: minutes; run by hand)
#
# Extra arguments go to `cargo package` (e.g. --allow-dirty for uncommitted work).
# The packages land in ${CARGO_TARGET_DIR:-target}/package/.
set -euo pipefail
cd "$(dirname "$0")/.."

verify=(--no-verify)
extra=()
for arg in "$@"; do
  case "$arg" in
    --verify) verify=() ;;
    *) extra+=("$arg") ;;
  esac
done

# The members that may be published (no `publish = false`).
members=()
excluded=()
for manifest in */Cargo.toml; do
  name=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)
  if grep -q '^publish = false' "$manifest"; then
    excluded+=(--exclude "$name")
  else
    members+=("$name")
  fi
done

version=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version = "\(.*\)"$/\1/p' Cargo.toml)
out="${CARGO_TARGET_DIR:-target}/package"
start=$SECONDS
cargo package --workspace "${excluded[@]}" --locked "${verify[@]}" "${extra[@]}"
echo "package-check: cargo package ${verify[*]:---verify} took $((SECONDS - start)) s" >&2

limit=$((10 * 1024 * 1024))
status=0
for name in "${members[@]}"; do
  crate="$out/$name-$version.crate"
  if [ ! -f "$crate" ]; then
    echo "package-check: $name: no $crate" >&2
    status=1
    continue
  fi
  size=$(stat -c %s "$crate")
  failed_before=$status
  status=0
  if [ "$size" -ge "$limit" ]; then
    echo "package-check: $name: $size bytes, over crates.io's 10 MiB limit" >&2
    status=1
  fi
  files=$(tar -tzf "$crate")
  for required in README.md LICENSE Cargo.toml Cargo.toml.orig; do
    if ! grep -qx "$name-$version/$required" <<< "$files"; then
      echo "package-check: $name: $required is not in the package" >&2
      status=1
    fi
  done
  # The manifest cargo rewrote for crates.io: every understudy dependency
  # carries a version (a path alone cannot be published).
  manifest=$(tar -xzOf "$crate" "$name-$version/Cargo.toml")
  unversioned=$(awk '
    /^\[(dev-|build-)?dependencies\.understudy/ { dep = $0; has = 0; next }
    dep && /^version = / { has = 1 }
    dep && /^\[/ { if (!has) print dep; dep = "" }
    END { if (dep && !has) print dep }' <<< "$manifest")
  if [ -n "$unversioned" ]; then
    echo "package-check: $name: dependencies without a version: $unversioned" >&2
    status=1
  fi
  if [ "$status" -eq 0 ]; then
    echo "package-check: $name $version: $size bytes, ok" >&2
  fi
  status=$((status | failed_before))
done
if grep -q 'example.invalid' Cargo.toml; then
  echo "package-check: note: the repository URL is the placeholder (README \"Publishing\"); set it before publishing" >&2
fi
exit "$status"
