#!/usr/bin/env bash
# tests/exercises/consistency.sh NNLAB_GRADE: the exercise tasks' three parts agree (the
# regions in the sources, the sheets, the grader's checks), and make-exercises.sh and grade.sh
# answer usage errors with exit 2 and make what they say.  Exit 1 on the first disagreement.
set -euo pipefail
grader=$1
cd "$(dirname "$0")/../.."
source scripts/exercises-lib.sh
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sheets=$(task_ids | sort)
regions=$(scan_regions) || fail "malformed regions"
[[ $(awk '{print $1}' <<<"$regions" | sort -u) == "$sheets" ]] ||
  fail "the regions and the sheets name different tasks: $(diff <(awk '{print $1}' <<<"$regions" | sort -u) <(echo "$sheets") | tr '\n' ' ')"
[[ $("$grader" --registered | sort) == "$sheets" ]] ||
  fail "the grader's checks and the sheets name different tasks: $(diff <("$grader" --registered | sort) <(echo "$sheets") | tr '\n' ' ')"
(($(wc -l <<<"$sheets") >= 16)) || fail "fewer than 16 tasks"
for id in $sheets; do
  [[ $(head -c 2 "$(task_sheet "$id")") == "# " ]] || fail "the sheet of $id does not start with its title"
done

# grade.sh: --list is the ids in the sheets' order and nothing else; an unknown task is exit 2.
[[ $(scripts/grade.sh --list) == "$(task_ids)" ]] || fail "grade.sh --list"
code=0; scripts/grade.sh no-such-task >/dev/null 2>"$work/err" || code=$?
[[ $code == 2 && $(cat "$work/err") == *"unknown task 'no-such-task'"* ]] || fail "grade.sh no-such-task: exit $code"
code=0; scripts/grade.sh --frobnicate >/dev/null 2>&1 || code=$?
[[ $code == 2 ]] || fail "grade.sh --frobnicate: exit $code"

# make-exercises.sh: usage errors are exit 2 and write nothing.
for args in "" "--tasks no-such-task $work/k1" "--tasks"; do
  code=0; scripts/make-exercises.sh $args >/dev/null 2>&1 || code=$?
  [[ $code == 2 ]] || fail "make-exercises.sh $args: exit $code, expected 2"
done
[[ ! -e $work/k1 ]] || fail "make-exercises.sh wrote a kit for an unknown task"
mkdir "$work/exists"
code=0; scripts/make-exercises.sh "$work/exists" >/dev/null 2>&1 || code=$?
[[ $code == 2 && -z $(ls -A "$work/exists") ]] || fail "make-exercises.sh into an existing directory: exit $code"

# A kit of two tasks: exactly their regions change, to their stubs; the rest is the project.
# (Not in a kit, nor outside a git checkout.)
if [[ -e labs/exercises/KIT-TASKS ]] || ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "exercises: $(wc -l <<<"$sheets") tasks; regions, sheets, checks and the scripts agree (kit: not made again)"
  exit 0
fi
scripts/make-exercises.sh --tasks act-sigmoid,relu-abs-l1 "$work/kit" >/dev/null
[[ $(cat "$work/kit/labs/exercises/KIT-TASKS") == $'act-sigmoid\nrelu-abs-l1' ]] || fail "KIT-TASKS"
grep -q 'act-sigmoid' "$work/kit/README.md" && grep -q 'relu-abs-l1' "$work/kit/README.md" &&
  ! grep -q 'loss-bce' "$work/kit/README.md" || fail "the kit's README does not list exactly its tasks"
changed=$(git ls-files | while read -r f; do if [[ -e $f ]] && ! cmp -s "$f" "$work/kit/$f"; then echo "$f"; fi; done)
[[ $changed == $'README.md\nlib/nnlab/core/activations.hpp\nlib/nnlab/methods/relu_constructions.cpp' ]] ||
  fail "the kit differs from the project in: $(tr '\n' ' ' <<<"$changed")"
grep -q '^    return a \* (S(1) - a);' "$work/kit/lib/nnlab/core/activations.hpp" && fail "the sigmoid's solution is in the kit"
grep -q '^    return S(1) - a \* a;' "$work/kit/lib/nnlab/core/activations.hpp" || fail "tanh's solution left the kit"
grep -q '// TASK act-sigmoid: yours to write (labs/exercises/sheets/08-act-sigmoid.md)' \
  "$work/kit/lib/nnlab/core/activations.hpp" || fail "the kit's region does not point to its sheet"
[[ $(grep -c '// STUB' "$work/kit/lib/nnlab/methods/relu_constructions.cpp") == 2 ]] ||
  fail "relu_constructions.cpp: the two stubbed regions should have lost their STUB lines, the other two kept them"
echo "exercises: $(wc -l <<<"$sheets") tasks; regions, sheets, checks and the scripts agree"
