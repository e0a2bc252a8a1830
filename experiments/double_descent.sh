#!/usr/bin/env bash
# The double-descent sweep on Fashion-MNIST and its families of curves.
#   experiments/double_descent.sh [N]          (default N = 1000 training images)
# Main run: random ReLU features, minimum-norm least squares, 10% label noise, p from 10 to 20N
# (40 geometric values plus 0.9N, N, 1.1N), 3 trials, 2,000 test images, seed 1; ensembles of 8
# on the same draws at 13 values of p from 0.1N to 20N (an ensemble costs 8 fits per point).
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
source scripts/blas-env.sh release
P=$(awk -v n="$N" 'BEGIN { for (i = 0; i < 40; i++) { v = int(10 * exp(i * log(2 * n) / 39) + 0.5); a[v] = 1 }
                        a[int(0.9 * n)] = 1; a[n] = 1; a[int(1.1 * n)] = 1;
                        s = ""; for (v in a) s = s (s == "" ? "" : "\n") v; print s }' | sort -n | paste -sd, -)
common="--dataset fashion-mnist --n-train $N --n-test 2000 --seed 1 --features $P"
t0=$(date +%s%N)
"$nnlab" double-descent $common --noise 0.1 --trials 3 --out "$out/main.csv" 2>/dev/null
t1=$(date +%s%N)
nn_main=$(( (t1 - t0) / 1000000 ))
PE=$(awk -v n="$N" 'BEGIN { split("0.1 0.3 0.5 0.7 0.8 0.9 1 1.1 1.25 1.5 2 5 20", f, " ");
                           s = ""; for (i = 1; i <= 13; i++) s = s (i > 1 ? "," : "") int(f[i] * n + 0.5); print s }')
"$nnlab" double-descent --dataset fashion-mnist --n-train $N --n-test 2000 --seed 1 --features $PE \
  --noise 0.1 --trials 3 --ensemble 8 --out "$out/ensemble.csv" 2>/dev/null
for s in 0 0.2; do "$nnlab" double-descent $common --noise $s --trials 1 --out "$out/noise_$s.csv" 2>/dev/null; done
cp "$out/main.csv" "$out/noise_0.1.csv"
for r in 0.0001 0.01 1; do "$nnlab" double-descent $common --noise 0.1 --trials 1 --ridge $r --out "$out/ridge_$r.csv" 2>/dev/null; done
"$nnlab" double-descent $common --noise 0.1 --trials 3 --ridge-grid 0,1e-6,1e-4,1e-3,1e-2,0.1,1,10,100 \
  --out "$out/ridge_opt.csv" 2>/dev/null
{
  echo "nnlab: main sweep ($(echo "$P" | tr ',' '\n' | wc -l) values of p, 3 trials) $(awk "BEGIN{print $nn_main/1000}") s"
  if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
    /usr/bin/python3 experiments/dd_numpy.py --n-train "$N" --features "$P" --trials 3 --noise 0.1 | tail -1
  else
    echo "numpy: python3-numpy not installed: no comparison"
  fi
} | tee "$out/summary.txt"
