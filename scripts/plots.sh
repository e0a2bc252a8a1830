#!/usr/bin/env bash
# Regenerates every figure from the CSV already under results/ -- no computation is re-run.
# Each scripts/plots/<name>.gp reads results/<lab>/*.csv (gnuplot variable `dir`) and writes
# results/<lab>/<name>.png (variable `out`); the first line of the .gp file names its lab
# (a figure drawn for several folders has one such line per folder):
#   # lab: 06_activations
# Graphviz pictures (results/*/*.dot) are rendered to PNG as well.
set -euo pipefail
cd "$(dirname "$0")/.."
res=${NNLAB_RESULTS:-$PWD/results}
n=0
for gp in scripts/plots/*.gp; do
  name=$(basename "$gp" .gp)
  # a script may serve several result folders (one "# lab:" line each)
  for lab in $(sed -n 's/^# lab: *//p' "$gp"); do
    dir="$res/$lab"
    if [[ ! -d "$dir" ]]; then echo "plots: skip $name for $lab (no $dir yet: run it first)"; continue; fi
    gnuplot -e "dir='$dir'; out='$dir/$name.png'" "$gp"
    n=$((n + 1))
  done
done
for dot in "$res"/*/*.dot; do
  [[ -e "$dot" ]] || continue
  if command -v dot >/dev/null; then dot -Tpng "$dot" -o "${dot%.dot}.png"; n=$((n + 1)); fi
done
echo "plots: $n figures regenerated under $res"
