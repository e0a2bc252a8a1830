#!/usr/bin/env bash
# The backend benchmark, in one run: PyTorch first (when python3-torch is there),
# then nnlab's Google Benchmark suite, which reads PyTorch's times and writes the ratios.
# Fairness on a noisy machine: nnlab's three repetitions of each case are randomly interleaved
# with the other cases (--benchmark_enable_random_interleaving), so its best times are taken
# over windows spread across the whole run; PyTorch's sweep (for the table and the figure) is
# timed before it, under two thread settings.  The targets are then re-measured by paired
# rounds, blocks of the two sides alternating within seconds: matrix vs PyTorch against two
# PyTorch processes started by the benchmark (bench_torch.py --serve), the fraction of peak
# against the FMA loop, the other ratios between nnlab's own cases.
#   scripts/bench.sh [preset=release] [google-benchmark flags, e.g. --benchmark_filter=double/step]
# Results: results/bench/{backends.csv,peak.csv,scaling.csv,targets.txt,torch_*.csv}; figures with
# scripts/plots.sh and scripts/bench-table.sh.  Its time: experiments/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}; shift || true
out=${NNLAB_RESULTS:-$PWD/results}/bench
mkdir -p "$out"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j2 --target bench_backends >/dev/null
source scripts/blas-env.sh "$preset"  # PyTorch and nnlab on the same OpenBLAS kernels
torch="" serve=""
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  # PyTorch's best thread setting differs per shape: run it with its defaults and with
  # OMP_WAIT_POLICY=PASSIVE, and keep the better time of each case.
  /usr/bin/python3 experiments/bench_torch.py --sweeps --min-time 0.1 --out "$out/torch_default.csv"
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 experiments/bench_torch.py --sweeps --min-time 0.1 --out "$out/torch_passive.csv"
  torch="$out/torch_default.csv,$out/torch_passive.csv"
  serve="/usr/bin/python3 experiments/bench_torch.py"
else
  echo "bench: python3-torch not installed: nnlab only (scripts/install-deps.sh --reference installs it)"
fi
"build/$preset/experiments/bench_backends" --out "$out" ${torch:+--torch "$torch"} ${serve:+--torch-serve "$serve"} \
  --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true --benchmark_min_time=0.05 \
  --benchmark_out="$out/gbench.json" \
  --benchmark_out_format=json "$@"
