#!/usr/bin/env bash
# Strong scaling of nnlab under MPI on this machine: the same work on 1, 2 and 4 processes
# (2 cores: 4 processes oversubscribe them, which is the point of showing it).
#   experiments/mpi_scaling.sh
# 1. data-parallel training: Fashion-MNIST, 784-256-128-10, Adam, batch 128, 2 epochs, double,
#    backend mpi, 2/R threads per process (at least 1);
# 2. the double-descent sweep: Fashion-MNIST n = 1000, 20 values of p up to 4000, 2 trials.
# Every run must give the same model / CSV as the 1-process run (checked with cmp).
# Writes results/mpi_scaling/{scaling.csv,summary.txt}.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${NNLAB_RESULTS:-$PWD/results}/mpi_scaling
mkdir -p "$out"
cmake --preset release >/dev/null && cmake --build --preset release -j2 --target nnlab_cli >/dev/null
nnlab=build/release/nnlab
source scripts/blas-env.sh release
run=(mpirun --oversubscribe)
[[ $(id -u) == 0 ]] && run+=(--allow-run-as-root)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
P=$(awk 'BEGIN { for (i = 0; i < 20; i++) printf "%s%d", (i ? "," : ""), int(10 * exp(i * log(400) / 19) + 0.5) }')
echo "task,ranks,threads_per_rank,seconds,speedup" > "$out/scaling.csv.tmp"
for task in train sweep; do
  base=0
  for R in 1 2 4; do
    T=$(( 2 / R )); (( T < 1 )) && T=1
    t0=$(date +%s.%N)
    if [[ $task == train ]]; then
      "${run[@]}" -np $R "$nnlab" train --dataset fashion-mnist --layers 784,256,128,10 --activations relu,relu,softmax \
        --loss ce --optimizer adam --lr 1e-3 --batch 128 --epochs 2 --seed 1 --backend mpi --threads $T --quiet \
        --out "$out/model_np$R.json" 2>/dev/null
      [[ $R == 1 ]] || cmp "$out/model_np1.json" "$out/model_np$R.json"
    else
      "${run[@]}" -np $R "$nnlab" double-descent --dataset fashion-mnist --n-train 1000 --n-test 2000 --features "$P" \
        --trials 2 --noise 0.1 --seed 1 --threads $T --out "$out/dd_np$R.csv" 2>/dev/null
      [[ $R == 1 ]] || cmp "$out/dd_np1.csv" "$out/dd_np$R.csv"
    fi
    t1=$(date +%s.%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    [[ $R == 1 ]] && base=$s
    awk -v t=$task -v r=$R -v th=$T -v s="$s" -v b="$base" 'BEGIN { printf "%s,%d,%d,%.3f,%.3f\n", t, r, th, s, b / s }' \
      | tee -a "$out/scaling.csv.tmp"
  done
done
mv "$out/scaling.csv.tmp" "$out/scaling.csv"
column -s, -t "$out/scaling.csv" | tee "$out/summary.txt"
echo "(every multi-process result equal, byte for byte, to the 1-process one)" | tee -a "$out/summary.txt"
