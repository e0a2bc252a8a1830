#!/usr/bin/env bash
# tests/exercises/kit_test.sh: grades three freshly made kits (scripts/test.sh runs it):
#   every task stubbed                      -> every task fails
#   every other task stubbed, both halves   -> exactly the stubbed tasks fail
# so each stub fails, and each task's checks use that task's code alone.  The kits are built
# with warnings as errors, as CI builds the project.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t ids < <(scripts/grade.sh --list)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
odd=() even=()
for i in "${!ids[@]}"; do
  if ((i % 2)); then odd+=("${ids[$i]}"); else even+=("${ids[$i]}"); fi
done
status=0
grade_kit() {  # name, then the stubbed tasks ("" = all)
  local name=$1 tasks=$2 t0=$SECONDS code=0
  scripts/make-exercises.sh ${tasks:+--tasks "$tasks"} "$work/$name" >/dev/null
  (cd "$work/$name" && NNLAB_GRADE_CMAKE_ARGS=-DNNLAB_WERROR=ON scripts/grade.sh --json >"$work/$name.json" 2>"$work/$name.err") || code=$?
  if [[ $code == 2 ]] || ! grep -q '"failed"' "$work/$name.json"; then
    echo "kit $name: grade.sh failed (exit $code)"; cat "$work/$name.err"; exit 1
  fi
  local stubbed=",${tasks:-$(IFS=,; echo "${ids[*]}")},"
  for id in "${ids[@]}"; do
    local line
    line=$(grep -F "\"id\": \"$id\"," "$work/$name.json") || { echo "kit $name: no result for $id"; status=1; continue; }
    if [[ $stubbed == *",$id,"* ]]; then
      [[ $line == *'"passed": false'* ]] || { echo "kit $name: the stub of $id passed"; status=1; }
    else
      [[ $line == *'"passed": true'* ]] || { echo "kit $name: $id failed with other tasks stubbed: $line"; status=1; }
    fi
  done
  echo "kit $name: $(grep -o '"passed": [0-9]*, "failed": [0-9]*' "$work/$name.json") ($((SECONDS - t0)) s)"
}
grade_kit all ""
grade_kit odd "$(IFS=,; echo "${odd[*]}")"
grade_kit even "$(IFS=,; echo "${even[*]}")"
exit $status
