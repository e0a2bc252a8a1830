#!/usr/bin/env bash
# The main command of README.md: install what is missing, build (release), run every lab,
# then regenerate every figure from the CSV the labs wrote and write the report
# results/index.html (every lab's sheet and figures on one page).  Results go to results/.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${NNLAB_JOBS:-2}
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
source scripts/blas-env.sh release
export NNLAB_RESULTS="$PWD/results"
failed=()
for lab in build/release/labs/lab*; do
  [[ -x "$lab" ]] || continue
  echo
  echo "################ $(basename "$lab")"
  start=$(date +%s%N)
  if ! scripts/run-lab.sh "$lab"; then failed+=("$(basename "$lab")"); fi
  ms=$((($(date +%s%N) - start) / 1000000))
  printf '(%s: %d.%03d s)\n' "$(basename "$lab")" $((ms / 1000)) $((ms % 1000))
done
echo
scripts/plots.sh
scripts/report.sh
if ((${#failed[@]})); then
  echo "run-all: FAILED labs: ${failed[*]}"
  exit 1
fi
echo "run-all: every lab ran; results and figures are in results/, the report is results/index.html"
