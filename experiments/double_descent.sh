#!/usr/bin/env bash
# The double-descent sweep on Fashion-MNIST and its families of curves.
#   experiments/double_descent.sh [N]          (default N = 1000 training images)
# Main run: random ReLU features, minimum-norm least squares, 10% label noise, p from 10 to 20N
# (40 geometric values plus 0.9N, N, 1.1N), 3 trials, ensembles of 8, 2,000 test images, seed 1.
# Families: label noise 0 / 0.1 / 0.2; fixed ridge 1e-4, 1e-2, 1; the ridge chosen per p on a
# validation set of 1,000 other training images.  Then the same main sweep in NumPy
# (experiments/dd_numpy.py, numpy.linalg.lstsq) for the timing comparison.
# Writes results/double_descent/*.csv, summary.txt; scripts/plots.sh draws the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
nnlab=${NNLAB:-build/release/nnlab}
out=${NNLAB_RESULTS:-results}/double_descent
mkdir -p "$out"
[[ -x "$nnlab" ]] || { cmake --preset release >/dev/null && cmake --build --preset release -j2 >/dev/null; }
P=$(awk -v n="$N" 'BEGIN { for (i = 0; i < 40; i++) { v = int(10 * exp(i * log(2 * n) / 39) + 0.5); a[v] = 1 }
                        a[int(0.9 * n)] = 1; a[n] = 1; a[int(1.1 * n)] = 1;
                        s = ""; for (v in a) s = s (s == "" ? "" : "\n") v; print s }' | sort -n | paste -sd, -)
common="--dataset fashion-mnist --n-train $N --n-test 2000 --seed 1 --features $P"
t0=$(date +%s%N)
"$nnlab" double-descent $common --noise 0.1 --trials 3 --ensemble 8 --out "$out/main.csv" 2>/dev/null
t1=$(date +%s%N)
nn_main=$(( (t1 - t0) / 1000000 ))
"$nnlab" double-descent $common --noise 0.1 --trials 3 --out "$out/single.csv" 2>/dev/null
t2=$(date +%s%N)
nn_single=$(( (t2 - t1) / 1000000 ))
for s in 0 0.2; do "$nnlab" double-descent $common --noise $s --trials 1 --out "$out/noise_$s.csv" 2>/dev/null; done
cp "$out/single.csv" "$out/noise_0.1.csv"
for r in 0.0001 0.01 1; do "$nnlab" double-descent $common --noise 0.1 --trials 1 --ridge $r --out "$out/ridge_$r.csv" 2>/dev/null; done
"$nnlab" double-descent $common --noise 0.1 --trials 1 --ridge-grid 0,1e-6,1e-4,1e-3,1e-2,0.1,1,10,100 \
  --out "$out/ridge_opt.csv" 2>/dev/null
{
  echo "nnlab: main sweep (3 trials, ensembles of 8) $(awk "BEGIN{print $nn_main/1000}") s;" \
       "the same sweep without ensembles: $(awk "BEGIN{print $nn_single/1000}") s"
  if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
    /usr/bin/python3 experiments/dd_numpy.py --n-train "$N" --features "$P" --trials 3 --noise 0.1 | tail -1
  else
    echo "numpy: python3-numpy not installed: no comparison"
  fi
} | tee "$out/summary.txt"
