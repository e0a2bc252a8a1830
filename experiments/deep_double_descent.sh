#!/usr/bin/env bash
# Deep double descent: the width sweep of trained one-hidden-layer networks.
#   experiments/deep_double_descent.sh [key=value ...]   (see experiments/deep_double_descent.cpp)
# Defaults: Fashion-MNIST pooled to 7x7, n = 1000, 20% label noise, 2000 test images, Adam
# (lr 1e-3, batch 64) for 1000 epochs without early stopping, widths 4..4096, 3 seeds: a few
# minutes (experiments/README.md).  Writes results/deep_double_descent/{sweep.csv,summary.txt,deep_dd.png}.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=build/release/experiments/deep_double_descent
out=${NNLAB_RESULTS:-$PWD/results}/deep_double_descent
cmake --preset release >/dev/null && cmake --build --preset release -j2 --target deep_double_descent >/dev/null
mkdir -p "$out"
NNLAB_RESULTS=${NNLAB_RESULTS:-$PWD/results} "$exe" "$@" | tee "$out/summary.txt"
gnuplot -e "dir='$out'; out='$out/deep_dd.png'" scripts/plots/deep_dd.gp
echo "deep_double_descent: figure $out/deep_dd.png"
