#!/usr/bin/env bash
# Create/refresh a Python virtualenv used by the official-SDK conformance
# harnesses (tests/sdk/*.py) and print the venv's python path as the LAST line
# on stdout. Everything else goes to stderr.
#
#   scripts/python-env.sh [--profile sdk|livekit|agentscope]
#
# Profiles (one pinned requirements file and one venv each):
#   sdk      (default) scripts/requirements-sdk.txt: openai, dashscope, google-genai
#            venv: UNDERSTUDY_VENV (default <repo>/.venv)
#   livekit  scripts/requirements-livekit.txt: livekit-agents + its OpenAI plugin
#            venv: UNDERSTUDY_LIVEKIT_VENV (default <repo>/.venv-livekit)
#   agentscope scripts/requirements-agentscope.txt: agentscope[realtime] (its
#            RealtimeAgent and realtime model classes)
#            venv: UNDERSTUDY_AGENTSCOPE_VENV (default <repo>/.venv-agentscope)
#   PYTHON            interpreter used to create the venv (default: python3, >= 3.11)
#
# Idempotent and fast when nothing changed: the venv holds a stamp file with the
# sha256 of the profile's requirements file (plus the interpreter version); if it
# matches, nothing is installed. Safe to call concurrently (flock, if present).
# Needs only PyPI (or a pip index configured via PIP_INDEX_URL etc.).
set -euo pipefail

log() { printf 'python-env: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
profile=sdk
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) [ $# -ge 2 ] || die "--profile needs a name (sdk, livekit or agentscope)"; profile="$2"; shift 2 ;;
    --profile=*) profile="${1#--profile=}"; shift ;;
    *) die "unknown argument '$1' (usage: python-env.sh [--profile sdk|livekit|agentscope])" ;;
  esac
done
case "$profile" in
  sdk) venv="${UNDERSTUDY_VENV:-$repo_root/.venv}" ;;
  livekit) venv="${UNDERSTUDY_LIVEKIT_VENV:-$repo_root/.venv-livekit}" ;;
  agentscope) venv="${UNDERSTUDY_AGENTSCOPE_VENV:-$repo_root/.venv-agentscope}" ;;
  *) die "unknown profile '$profile' (expected sdk, livekit or agentscope)" ;;
esac
req="$script_dir/requirements-$profile.txt"
base_python="${PYTHON:-python3}"
stamp="$venv/.understudy-$profile-requirements.sha256"
vpy="$venv/bin/python"

[ -f "$req" ] || die "missing $req"
command -v "$base_python" >/dev/null 2>&1 || die "'$base_python' not found; install Python >= 3.11"
"$base_python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "$("$base_python" -V 2>&1) is too old; google-genai 3.x needs Python >= 3.11 (set PYTHON=...)"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else "$base_python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}
want="$(sha256_of "$req") $("$base_python" -c 'import platform; print(platform.python_version())')"

up_to_date() {
  [ -x "$vpy" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$vpy" -c '' >/dev/null 2>&1
}

if up_to_date; then
  log "venv $venv is up to date (requirements sha256 ${want%% *})"
  echo "$vpy"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# Serialise concurrent callers (e.g. parallel cargo tests) on a lock file.
if command -v flock >/dev/null 2>&1; then
  # Lock lives outside the repo/venv (the venv may be deleted and recreated).
  lock="${TMPDIR:-/tmp}/understudy-venv-$(printf '%s' "$venv" | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock"
  log "waiting for lock $lock"
  flock 9
  if up_to_date; then  # another caller finished the install meanwhile
    log "venv $venv is up to date (installed by a concurrent run)"
    echo "$vpy"
    exit 0
  fi
fi

if [ -x "$vpy" ] && "$vpy" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1 \
   && [ -f "$venv/pyvenv.cfg" ] && "$vpy" -m pip --version >/dev/null 2>&1; then
  log "reusing existing venv $venv (requirements changed or stamp missing)"
else
  log "creating venv $venv with $("$base_python" -V 2>&1) ($(command -v "$base_python"))"
  rm -rf "$venv"
  if ! "$base_python" -m venv "$venv" >&2; then
    rm -rf "$venv"
    if "$base_python" -m virtualenv --version >/dev/null 2>&1; then
      log "python -m venv failed; falling back to virtualenv"
      "$base_python" -m virtualenv -q "$venv" >&2
    else
      die "could not create venv (on Debian/Ubuntu: apt-get install -y python3-venv)"
    fi
  fi
fi

rm -f "$stamp"
log "installing pinned requirements from $req"
"$vpy" -m pip install --disable-pip-version-check --no-input --quiet -r "$req" >&2 \
  || die "pip install -r $req failed"
# Sanity: the SDKs and the modules the profile's harnesses use import cleanly.
if [ "$profile" = sdk ]; then
"$vpy" - >&2 <<'PY' || die "installed environment failed the import check"
import openai, pydantic, websockets
import dashscope.audio.qwen_omni
import google.genai
from openai.types.realtime import RealtimeServerEvent  # noqa: F401  (GA)
from openai.types.beta.realtime import RealtimeServerEvent as _B  # noqa: F401  (beta)
print(f"python-env: openai {openai.__version__}, pydantic {pydantic.VERSION}, websockets {websockets.__version__}")
PY
elif [ "$profile" = agentscope ]; then
"$vpy" - >&2 <<'PY' || die "installed environment failed the import check"
import websockets
from importlib.metadata import version
from agentscope.agent import RealtimeAgent  # noqa: F401
from agentscope.realtime import DashScopeAudioRealtimeModel  # noqa: F401
print(f"python-env: agentscope {version('agentscope')}, websockets {websockets.__version__}")
PY
else
"$vpy" - >&2 <<'PY' || die "installed environment failed the import check"
import aiohttp, openai
from importlib.metadata import version
from livekit.agents import llm  # noqa: F401
from livekit.plugins.openai.realtime import RealtimeModel  # noqa: F401
print(f"python-env: livekit-agents {version('livekit-agents')}, livekit-plugins-openai {version('livekit-plugins-openai')}, openai {openai.__version__}")
PY
fi
printf '%s\n' "$want" >"$stamp"
log "venv ready"
echo "$vpy"
