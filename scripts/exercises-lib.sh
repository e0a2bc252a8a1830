# Sourced by make-exercises.sh and grade.sh: where the exercise tasks are.
#   sheets     labs/exercises/sheets/NN-<id>.md, one per task, NN = the course's order
#   regions    in the C++ sources under lib/ and labs/ (not labs/exercises/):
#                // TASK <id>
#                ...the solution...
#                // STUB
#                // ...the stub, commented out...
#                // END TASK <id>
# shellcheck shell=bash

# The task ids in the course's order.
task_ids() {
  local f
  for f in labs/exercises/sheets/[0-9]*-*.md; do
    [[ -e $f ]] || continue
    f=${f##*/}
    f=${f#*-}
    echo "${f%.md}"
  done
}

# Exits 2, naming the program $1, at the first of the other arguments that is no task id.
require_tasks() {
  local prog=$1 all t
  shift
  all=$(task_ids)
  for t; do
    grep -qxF -- "$t" <<<"$all" || { echo "$prog: unknown task '$t' (scripts/grade.sh --list shows the ids)" >&2; exit 2; }
  done
}

# The sheet of a task.
task_sheet() { local f; for f in labs/exercises/sheets/[0-9]*-"$1".md; do echo "$f"; done; }

# The C++ files that hold regions.
region_files() {
  grep -rlE --include='*.cpp' --include='*.hpp' '^[[:space:]]*// TASK [a-z0-9-]+' lib labs | grep -v '^labs/exercises/' | sort
}

# Checks that every region is well formed (TASK, STUB, END TASK with the same id, no nesting;
# in a kit, a stubbed region has no STUB) and prints "<id> <file>" per region; messages name
# the file and line.
scan_regions() {
  local f
  for f in $(region_files); do
    awk -v F="$f" '
      function bad(msg) { printf "%s:%d: %s\n", F, NR, msg > "/dev/stderr"; err = 1; exit 1 }
      /^[ \t]*\/\/ TASK [a-z0-9-]+/ {
        if (open) bad("TASK " $3 " inside TASK " id)
        id = $3; sub(/:$/, "", id); open = 1; stub = 0; kit = /: yours to write/; next }
      /^[ \t]*\/\/ STUB[ \t]*$/ { if (!open || stub) bad("STUB outside a TASK region"); stub = 1; next }
      /^[ \t]*\/\/ END TASK/ {
        if (!open) bad("END TASK without TASK")
        if ($4 != id) bad("END TASK " $4 " closes TASK " id)
        if (!stub && !kit) bad("TASK " id " has no STUB")
        print id, F; open = 0; next }
      END { if (!err && open) { printf "%s: TASK %s is not closed\n", F, id > "/dev/stderr"; exit 1 } }
    ' "$f" || return 1
  done
}
