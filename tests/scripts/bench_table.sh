#!/usr/bin/env bash
# scripts/bench-table.sh on a hand-made backends.csv: each cell checked against the number it
# must show (milliseconds from seconds, 4 significant digits below 100 ms, 0.1 ms above; the
# matrix row's frac_gemm and PyTorch speed-up), the issue's shape order, and exit 2 with one
# line on stderr and nothing on stdout for a missing file or a file that is not a backends.csv.
set -euo pipefail
script="$(dirname "$0")/../../scripts/bench-table.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
h=precision,op,backend,threads,shape,sweep,flops,seconds,gflops,frac_gemm,frac_peak,torch_seconds,speedup_vs_torch,cpu_per_wall
cat > "$tmp/b.csv" <<CSV
$h
double,step,matrix,1,2-4-1/b4,named,288,4e-07,0.7,0.75,0.001,0.0001,250,1
double,step,gemm,1,2-4-1/b4,named,288,3e-07,0.9,1,0.001,0.0001,333,1
double,step,matrix,2,784-256-128-10/b128,named,1.8e8,0.0012345,1,0.9512,0.5,0.0024690,2.0,2
double,step,openmp,2,784-256-128-10/b128,named,1.8e8,0.25,1,0.5,0.5,0.0024690,0.01,2
double,step,naive,1,784-256-128-10/b128,named,1.8e8,0.123456,1,0.01,0.01,0.0024690,0.02,1
double,step,matrix,1,784-256-128-10/b128,named,1.8e8,0.002,1,1.004,0.5,0.003,1.5,1
double,forward,matrix,1,784-256-128-10/b128,named,1.8e8,9,1,1,1,1,1,1
double,step,matrix,1,16-16-16-10/b256,width,1e6,9,1,1,1,1,1,1
CSV
out=$("$script" "$tmp/b.csv")
rows=$(printf '%s\n' "$out" | grep -c '^| [0-9]') || true
[[ $rows == 3 ]] || fail "3 rows expected (named steps only), got $rows:
$out"
line() { printf '%s\n' "$out" | grep -F "| $1 | $2 | $3 |" || fail "no row $1 $2 $3"; }
expect() { [[ "$1" == "$2" ]] || fail "expected
  $2
got
  $1"; }
expect "$(line 784-256-128-10/b128 double 1)" "| 784-256-128-10/b128 | double | 1 | 123.5 |  |  | 2 |  | 3 | 1.00 | 1.50x |"
expect "$(line 784-256-128-10/b128 double 2)" "| 784-256-128-10/b128 | double | 2 |  |  | 250.0 | 1.234 |  | 2.469 | 0.95 | 2.00x |"
expect "$(line 2-4-1/b4 double 1)" "| 2-4-1/b4 | double | 1 |  |  |  | 0.0004 | 0.0003 | 0.1 | 0.75 | 250x |"
# the issue's order: 784-256-128-10/b128 before 2-4-1/b4 (the file has them the other way)
first=$(printf '%s\n' "$out" | grep '^| [0-9]' | head -1)
[[ $first == "| 784-256-128-10/b128 | double | 1 |"* ]] || fail "first row: $first"
# bad input: exit 2, one line on stderr naming the file, nothing on stdout
echo "not a header" > "$tmp/notcsv"
for bad in "$tmp/missing.csv" "$tmp/notcsv"; do
  set +e
  o=$("$script" "$bad" 2> "$tmp/err"); rc=$?
  set -e
  [[ $rc == 2 ]] || fail "$bad: exit $rc, expected 2"
  [[ -z $o ]] || fail "$bad: stdout not empty: $o"
  [[ $(wc -l < "$tmp/err") == 1 ]] && grep -qF "$bad" "$tmp/err" || fail "$bad: stderr: $(cat "$tmp/err")"
done
echo "bench-table: 3 rows and 2 bad inputs as expected"
