#!/usr/bin/env bash
# Fashion-MNIST with nnlab alone, and the same run in PyTorch for the speed comparison.
#   experiments/fashion_mnist.sh [EPOCHS] [THREADS]        (defaults: 40 epochs, 1 thread)
# nnlab: 784-256-128-10, ReLU, softmax + ce, Adam lr 1e-3 halved every 10 epochs, batch 128,
# float, seed 1; the
# model is chosen on a validation split (10% of the training images), then evaluated once
# on the 10,000 test images.  PyTorch (experiments/torch_mlp.py): the same network, split,
# optimizer, batch, precision and threads, timed in the same run.
# Writes results/fashion_mnist/{model.json,curves.csv,summary.txt} and fashion_curves.png.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-40}
threads=${2:-1}
nnlab=${NNLAB:-build/release/nnlab}
out=${NNLAB_RESULTS:-results}/fashion_mnist
mkdir -p "$out"
[[ -x "$nnlab" ]] || { cmake --preset release >/dev/null && cmake --build --preset release -j2 >/dev/null; }
source scripts/blas-env.sh release
"$nnlab" train --dataset fashion-mnist --layers 784,256,128,10 --activations relu,relu,softmax --loss ce \
  --optimizer adam --lr 1e-3 --schedule step --step-size 10 --gamma 0.5 --batch 128 --epochs "$epochs" \
  --precision float --threads "$threads" --seed 1 \
  --log "$out/curves.csv" --out "$out/model.json" --progress 2> "$out/train.log"
tail -1 "$out/train.log"
test_json=$("$nnlab" evaluate --model "$out/model.json" --dataset fashion-mnist:test 2>/dev/null)
nn_spe=$(awk -F, 'NR > 1 { t = $7; n = NR - 1 } END { printf "%.3f", t / n }' "$out/curves.csv")
{
  echo "nnlab: ${nn_spe} s/epoch (float, ${threads} thread(s), 54,000 training images), test: ${test_json}"
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    /usr/bin/python3 experiments/torch_mlp.py --epochs 5 --threads "$threads" --precision float | tail -1
  else
    echo "torch: python3-torch not installed (scripts/install-deps.sh --reference): no comparison"
  fi
} | tee "$out/summary.txt"
gnuplot -e "dir='$out'; out='$out/fashion_curves.png'" scripts/plots/fashion_curves.gp
echo "fashion_mnist: figure $out/fashion_curves.png"
