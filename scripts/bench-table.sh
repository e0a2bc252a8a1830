#!/usr/bin/env bash
# experiments/README.md's table of one training step per backend (milliseconds, the four named shapes),
# printed as Markdown from the benchmark's results/bench/backends.csv (scripts/bench.sh writes
# it; nothing is re-run here).  Each time is the best of the run's interleaved repetitions;
# "matrix / dgemm rate" is the matrix step's GFLOP/s over that of the same products straight to
# OpenBLAS (frac_gemm), "matrix vs PyTorch" PyTorch's step time over the matrix step's (best-of
# times; the targets' paired ratios are in targets.txt).
#   scripts/bench-table.sh [backends.csv=results/bench/backends.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
csv=${1:-${NNLAB_RESULTS:-$PWD/results}/bench/backends.csv}
if [[ ! -r "$csv" ]]; then
  echo "bench-table: $csv: not found (run scripts/bench.sh first)" >&2
  exit 2
fi
head -1 "$csv" | grep -q '^precision,op,backend,threads,shape,sweep,flops,seconds,gflops,frac_gemm,frac_peak,torch_seconds,speedup_vs_torch' || {
  echo "bench-table: $csv: line 1: not the header of a backends.csv" >&2
  exit 2
}
awk -F, '
  function ms(s) { if (s == "") return ""; v = 1000 * s; return v >= 100 ? sprintf("%.1f", v) : sprintf("%.4g", v) }
  function x(r)  { if (r == "") return ""; return r >= 100 ? sprintf("%.0fx", r) : sprintf("%.2fx", r) }
  NR > 1 && $2 == "step" && $6 == "named" {
    k = $5 SUBSEP $1 SUBSEP $4
    t[k, $3] = $8
    if ($3 == "matrix") { fg[k] = $10; torch[k] = $12; sp[k] = $13 }
    if (!($5 in seen)) { seen[$5] = 1; found[++nf] = $5 }
  }
  END {
    if (nf == 0) { print "bench-table: no named step rows in the file" > "/dev/stderr"; exit 2 }
    # the four named shapes in their order, then any other named shape in the order of the file
    split("784-256-128-10/b128 784-256-128-10/b1024 1024-1024-1024-10/b512 2-4-1/b4", order, " ")
    for (i = 1; i in order; ++i) if (order[i] in seen) { shapes[++n] = order[i]; listed[order[i]] = 1 }
    for (i = 1; i <= nf; ++i) if (!(found[i] in listed)) shapes[++n] = found[i]
    print "| shape | prec | threads | naive | graph | openmp | matrix | dgemm (same products) | PyTorch | matrix / dgemm rate | matrix vs PyTorch |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; ++i)
      for (p = 1; p <= 2; ++p)
        for (th = 1; th <= 2; ++th) {
          prec = p == 1 ? "double" : "float"
          k = shapes[i] SUBSEP prec SUBSEP th
          if (!((k, "matrix") in t)) continue
          printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", shapes[i], prec, th,
                 ms(t[k, "naive"]), ms(t[k, "graph"]), ms(t[k, "openmp"]), ms(t[k, "matrix"]), ms(t[k, "gemm"]),
                 ms(torch[k]), fg[k] == "" ? "" : sprintf("%.2f", fg[k]), x(sp[k])
        }
  }' "$csv"
