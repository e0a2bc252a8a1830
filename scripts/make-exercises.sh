#!/usr/bin/env bash
# scripts/make-exercises.sh [--tasks T1,T2,...] OUT_DIR
#
# Writes OUT_DIR (which must not exist) as a student kit: a copy of the project in which the
# solution region of every task (or of the listed tasks only) is replaced by its stub.  The
# kit builds with the project's own commands; its README.md is the students' page.
# labs/exercises/README.md tells teachers how tasks are marked and graded.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/exercises-lib.sh

usage() { echo "usage: scripts/make-exercises.sh [--tasks T1,T2,...] OUT_DIR" >&2; exit 2; }
tasks="" out=""
while (($#)); do
  case "$1" in
    --tasks) (($# >= 2)) || usage; tasks=$2; shift 2 ;;
    --tasks=*) tasks=${1#--tasks=}; shift ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make-exercises: unknown option $1" >&2; usage ;;
    *) [[ -z $out ]] || usage; out=$1; shift ;;
  esac
done
[[ -n $out ]] || usage
if [[ -e $out || -L $out ]]; then
  echo "make-exercises: $out exists; the kit goes to a new directory" >&2
  exit 2
fi

mapfile -t all < <(task_ids)
if [[ -z $tasks ]]; then
  chosen=("${all[@]}")
else
  IFS=, read -r -a chosen <<<"$tasks"
  require_tasks make-exercises "${chosen[@]}"
fi
regions=$(scan_regions) || { echo "make-exercises: the regions above are malformed" >&2; exit 2; }
for t in "${chosen[@]}"; do
  grep -q "^$t " <<<"$regions" || { echo "make-exercises: task '$t' has a sheet but no region in the sources" >&2; exit 2; }
done

# Build the kit beside OUT_DIR and move it into place at the end: no partial kit.
parent=$(dirname -- "$out")
mkdir -p -- "$parent"
tmp=$(mktemp -d "$parent/.$(basename -- "$out").tmp.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf - | tar -C "$tmp" -xf -
else
  tar --exclude=./build --exclude=./results --exclude=./.git -cf - . | tar -C "$tmp" -xf -
fi

sel=$(IFS=,; echo "${chosen[*]}")
while read -r id file; do
  [[ ",$sel," == *",$id,"* ]] || continue
  sheet=$(task_sheet "$id")
  awk -v ID="$id" -v SHEET="$sheet" '
    /^[ \t]*\/\/ TASK [a-z0-9-]+[ \t]*$/ && $3 == ID {
      mode = 1; sub(/\/\/ TASK .*/, "// TASK " ID ": yours to write (" SHEET ")"); print; next }
    mode == 1 && /^[ \t]*\/\/ STUB[ \t]*$/ { mode = 2; next }
    mode == 1 { next }
    mode == 2 && /^[ \t]*\/\/ END TASK/ { mode = 0; print; next }
    mode == 2 { sub(/\/\/ ?/, ""); print; next }
    { print }
  ' "$tmp/$file" >"$tmp/$file.new"
  mv -- "$tmp/$file.new" "$tmp/$file"
done < <(sort -u <<<"$regions")

# The students' README: the page of labs/exercises/KIT.md, then the kit's tasks.
{
  cat labs/exercises/KIT.md
  echo
  echo "## Your tasks"
  echo
  echo "In the course's order; each sheet says what to show, what to write and what the grader checks."
  echo
  echo "| # | task | sheet |"
  echo "|---|------|-------|"
  n=0
  for t in "${all[@]}"; do
    [[ ",$sel," == *",$t,"* ]] || continue
    n=$((n + 1))
    sheet=$(task_sheet "$t")
    title=$(head -n 1 "$sheet" | sed 's/^# *//')
    echo "| $n | \`$t\` | [$title]($sheet) |"
  done
} >"$tmp/README.md"
printf '%s\n' "${chosen[@]}" >"$tmp/labs/exercises/KIT-TASKS"

mv -T -- "$tmp" "$out"
trap - EXIT
echo "make-exercises: wrote $out: ${#chosen[@]} of ${#all[@]} tasks stubbed"
