#!/usr/bin/env bash
# scripts/grade.sh [--list] [--json] [--checks DIR] [--timeout SECONDS] [TASK ...]
#
# Builds the grader (build/grade: the library and nnlab-grade only) and runs the checks of every
# task, or of the listed ones: one line per task, PASS or FAIL with what is wrong, then
# "N passed, M failed".  --json prints only the JSON report on stdout; --list prints the task
# ids and nothing else; --checks DIR compiles DIR/*.cpp (a teacher's further checks) into the
# grader.  Exit 0 when every task run passed, 1 otherwise, 2 on bad usage.
# NNLAB_JOBS sets the build's parallelism; NNLAB_GRADE_CMAKE_ARGS adds configure options.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/exercises-lib.sh

usage() { echo "usage: scripts/grade.sh [--list] [--json] [--checks DIR] [--timeout SECONDS] [TASK ...]" >&2; exit 2; }
list=0 json=0 checks="" timeout=60 tasks=()
while (($#)); do
  case "$1" in
    --list) list=1; shift ;;
    --json) json=1; shift ;;
    --checks) (($# >= 2)) || usage; checks=$2; shift 2 ;;
    --timeout) (($# >= 2)) || usage; timeout=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "grade: unknown option $1" >&2; usage ;;
    *) tasks+=("$1"); shift ;;
  esac
done
mapfile -t all < <(task_ids)
if ((list)); then
  printf '%s\n' "${all[@]}"
  exit 0
fi
require_tasks grade "${tasks[@]}"
((${#tasks[@]})) || tasks=("${all[@]}")
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "grade: --timeout must be a positive number of seconds" >&2; exit 2; }
command -v cmake >/dev/null || { echo "grade: cmake is missing; run scripts/install-deps.sh first" >&2; exit 2; }

build=build/grade extra=()
if [[ -n $checks ]]; then
  [[ -d $checks ]] || { echo "grade: --checks $checks: not a directory" >&2; exit 2; }
  checks=$(cd "$checks" && pwd)
  build=build/grade-$(printf '%s' "$checks" | cksum | cut -d' ' -f1)
  extra=(-DNNLAB_EXTRA_CHECKS="$checks")
fi
log=$build.log
mkdir -p build
echo "grade: building the grader in $build (log: $log)" >&2
read -r -a user_args <<<"${NNLAB_GRADE_CMAKE_ARGS:-}"
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" \
         -DNNLAB_BUILD_TESTS=OFF -DNNLAB_BUILD_LABS=OFF -DNNLAB_BUILD_EXPERIMENTS=OFF -DNNLAB_BUILD_EXERCISES=ON \
         -DNNLAB_USE_MPI=OFF -DNNLAB_EXTRA_CHECKS= "${extra[@]}" "${user_args[@]}" &&
       cmake --build "$build" --target nnlab-grade -j "${NNLAB_JOBS:-2}"; } >"$log" 2>&1; then
  # The code does not compile: every task fails, with the compiler's first error.
  first=$(grep -m1 -E 'error|Error' "$log" || tail -n 1 "$log")
  echo "grade: the build failed; the first errors ($log has them all):" >&2
  grep -E -m 10 -A3 'error' "$log" >&2 || tail -n 20 "$log" >&2
  msg="the code does not compile: ${first//\"/\'}"
  if ((json)); then
    printf '{ "tasks": ['
    sep=""
    for t in "${tasks[@]}"; do
      printf '%s\n    { "id": "%s", "passed": false, "message": "%s" }' "$sep" "$t" "${msg//\\/\\\\}"
      sep=","
    done
    printf '\n  ], "passed": 0, "failed": %d }\n' "${#tasks[@]}"
  else
    for t in "${tasks[@]}"; do echo "FAIL $t: $msg"; done
    echo "0 passed, ${#tasks[@]} failed"
  fi
  exit 1
fi
args=(--timeout "$timeout")
((json)) && args+=(--json)
exec "$build/labs/exercises/nnlab-grade" "${args[@]}" "${tasks[@]}"
