#!/usr/bin/env bash
# Understudy conformance in any CI: the same steps as the GitHub composite
# action (action.yml, which runs this script), as a plain shell script for
# GitLab, Buildkite, Jenkins or a laptop.
#
#   1. install `understudy` unless one is given or on PATH
#      (cargo install --locked, from this checkout or from UNDERSTUDY_GIT);
#   2. run `understudy conform` on the bundled suite (against its bundled
#      mocks, in-process), compared with UNDERSTUDY_BASELINE when set;
#   3. run `understudy conform --cassettes` on UNDERSTUDY_CASSETTES when set;
#   4. write each run's HTML report, JUnit XML and Markdown summary to
#      UNDERSTUDY_OUT, the summaries also to $GITHUB_STEP_SUMMARY when set.
#
# Every run is made even if an earlier one failed; the script exits non-zero
# if any did (a FAILED case, or with a baseline a regression only).
#
# Settings (environment):
#   UNDERSTUDY_BIN          the understudy binary to run (default: `understudy` on PATH,
#                           installed first if there is none)
#   UNDERSTUDY_GIT          install from this git URL instead of this checkout
#   UNDERSTUDY_BUNDLED      `true` (default) or `false`: run the bundled suite
#   UNDERSTUDY_BASELINE     a baseline file (`conform --write-baseline`) for the bundled run
#   UNDERSTUDY_CASSETTES    cassette files or directories, separated by spaces
#   UNDERSTUDY_FILTER       only cases whose id contains this (both runs)
#   UNDERSTUDY_OUT          where the reports go (default: understudy-report)
#   GITHUB_STEP_SUMMARY     a file the Markdown summaries are appended to (GitHub sets it)
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="${UNDERSTUDY_OUT:-understudy-report}"
bundled="${UNDERSTUDY_BUNDLED:-true}"
baseline="${UNDERSTUDY_BASELINE:-}"
cassettes="${UNDERSTUDY_CASSETTES:-}"
filter="${UNDERSTUDY_FILTER:-}"

# 1. The binary.
bin="${UNDERSTUDY_BIN:-}"
if [ -z "$bin" ]; then
  if command -v understudy >/dev/null 2>&1; then
    bin="$(command -v understudy)"
  else
    if [ -n "${UNDERSTUDY_GIT:-}" ]; then
      echo "ci-recipe: installing understudy from ${UNDERSTUDY_GIT}" >&2
      cargo install --locked --git "$UNDERSTUDY_GIT" understudy || exit 1
    else
      echo "ci-recipe: installing understudy from ${here}/cli" >&2
      cargo install --locked --path "$here/cli" || exit 1
    fi
    bin="${CARGO_HOME:-$HOME/.cargo}/bin/understudy"
  fi
fi
if [ ! -x "$bin" ]; then
  echo "ci-recipe: no understudy binary at ${bin}" >&2
  exit 1
fi
if [ "$bundled" != "true" ] && [ "$bundled" != "false" ]; then
  echo "ci-recipe: UNDERSTUDY_BUNDLED must be true or false, not ${bundled}" >&2
  exit 2
fi
if [ "$bundled" = "false" ] && [ -z "$cassettes" ]; then
  echo "ci-recipe: nothing to run (UNDERSTUDY_BUNDLED=false and no UNDERSTUDY_CASSETTES)" >&2
  exit 2
fi
mkdir -p "$out" || exit 1
: > "$out/summary.md"
status=0

# One conform run named $1 (its reports are $out/$1.{html,xml,md}); the
# remaining arguments go to `understudy conform`.
run() {
  local name="$1"
  shift
  local args=("$@")
  if [ -n "$filter" ]; then args+=(--filter "$filter"); fi
  args+=(--report "html=$out/$name.html")
  args+=(--report "junit=$out/$name.xml")
  args+=(--report "markdown=$out/$name.md")
  echo "ci-recipe: understudy conform ${args[*]}" >&2
  "$bin" conform "${args[@]}"
  local code=$?
  if [ "$code" -ne 0 ]; then
    echo "ci-recipe: the ${name} run failed (exit ${code})" >&2
    status=1
  fi
  if [ -f "$out/$name.md" ]; then
    cat "$out/$name.md" >> "$out/summary.md"
    echo >> "$out/summary.md"
  fi
}

# 2. The bundled suite.
if [ "$bundled" = "true" ]; then
  if [ -n "$baseline" ]; then
    run bundled --baseline "$baseline"
  else
    run bundled
  fi
fi

# 3. Your cassettes.
if [ -n "$cassettes" ]; then
  read -r -a paths <<< "$cassettes"
  run cassettes --cassettes "${paths[@]}"
fi

# 4. The summary on the CI's page.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
echo "ci-recipe: reports in ${out}/ (html, xml, md); summary ${out}/summary.md" >&2
exit "$status"
