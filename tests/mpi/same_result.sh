#!/usr/bin/env bash
# The mpi equalities, checked under mpirun on this machine (loopback only):
#   - `mpirun -np R nnlab train` (data-parallel, backend mpi) writes the same model file, byte
#     for byte, as `nnlab train --backend mpi` in one process, for R = 2 and 3 (with R = 3 and
#     4 shards per batch, the ranks get 1, 1 and 2 shards; with the last, short batch, one rank
#     gets none);
#   - `mpirun -np R nnlab double-descent` writes the same CSV as the single-process run;
#   - bad input under mpirun stops every process (no hang) with a non-zero exit and no file.
#   same_result.sh NNLAB MPIEXEC
set -euo pipefail
nnlab=$1
mpiexec=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run=("$mpiexec" --oversubscribe)
[[ $(id -u) == 0 ]] && run+=(--allow-run-as-root)
# shared-memory transport without ptrace-based single copy (containers forbid it)
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
train=(train --dataset spirals --layers 2,24,24,3 --activations tanh,relu,softmax --loss ce --optimizer adam
       --lr 0.01 --batch 64 --epochs 4 --seed 5 --threads 1 --quiet)
dd=(double-descent --dataset spirals --n-train 120 --n-test 200 --features 10,60,100,120,140,400 --trials 2
    --ensemble 3 --noise 0.1 --seed 2 --threads 1)
"$nnlab" "${train[@]}" --backend mpi --out "$tmp/model1.json"
"$nnlab" "${dd[@]}" --out "$tmp/dd1.csv" 2>/dev/null
for R in 2 3; do
  "${run[@]}" -np "$R" "$nnlab" "${train[@]}" --out "$tmp/model$R.json"
  cmp "$tmp/model1.json" "$tmp/model$R.json"
  echo "train: mpirun -np $R gives the single-process model, byte for byte"
  "${run[@]}" -np "$R" "$nnlab" "${dd[@]}" --out "$tmp/dd$R.csv" 2>/dev/null
  cmp "$tmp/dd1.csv" "$tmp/dd$R.csv"
  echo "double-descent: mpirun -np $R gives the single-process CSV, byte for byte"
done
# A different backend is a different sum: the check above can fail (sanity of the test itself).
"$nnlab" "${train[@]}" --backend openmp --out "$tmp/model_omp.json"
if cmp -s "$tmp/model1.json" "$tmp/model_omp.json"; then
  echo "same_result: the openmp and mpi backends gave identical files: the comparison proves nothing" >&2
  exit 1
fi
# Bad input under mpirun: every process stops (MPI_Abort), no hang, a non-zero exit, no file.
if timeout 60 "${run[@]}" -np 2 "$nnlab" train --x "$tmp/missing.csv" --y "$tmp/missing.csv" --layers 2,3,1 \
     --activations relu,sigmoid --loss bce --out "$tmp/bad.json" 2>/dev/null; then
  echo "same_result: bad input under mpirun exited 0" >&2; exit 1
fi
[[ ! -e "$tmp/bad.json" ]] || { echo "same_result: bad input wrote a model" >&2; exit 1; }
echo "bad input under mpirun -np 2: stopped with an error, no model written"
echo "same_result: all equal"
