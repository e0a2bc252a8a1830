#!/usr/bin/env bash
# scripts/run-lab.sh LAB_EXECUTABLE [ARGS...]: runs one lab as usual and keeps its sheet (what it
# prints) in $NNLAB_RESULTS/<lab>/sheet.txt for the report (scripts/report.sh).  The exit code
# is the lab's.  run-all.sh and the lab tests (ctest -L lab) run every lab through it.
set -uo pipefail
exe=$1
shift
id=$(basename "$exe")
id=${id#lab}
res=${NNLAB_RESULTS:-$PWD/results}
mkdir -p "$res/$id"
tmp=$(mktemp "$res/$id/.sheet.txt.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$exe" "$@" | tee "$tmp"
code=${PIPESTATUS[0]}
mv -f "$tmp" "$res/$id/sheet.txt"
exit "$code"
