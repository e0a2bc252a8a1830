#!/usr/bin/env bash
# The test command of README.md (and exactly what .ci/run runs):
# install what is missing, build, run the whole test suite with OpenMP on and with it off,
# grade three fresh exercise kits (every stub fails, each task alone), then fuzz the three
# input readers (model, CSV, checkpoint) for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${NNLAB_JOBS:-2}
scripts/install-deps.sh
for preset in ci ci-noomp; do
  echo "== test.sh: preset $preset"
  cmake --preset "$preset" >/dev/null
  t0=$SECONDS
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test.sh: preset $preset built in $((SECONDS - t0)) s"
  if ! ctest --preset "$preset" -j "$jobs"; then
    # CI keeps only the end of the log: repeat the failures there, one at a time, with
    # their output (a test that passes alone is still a failure: exit 8 either way).
    echo "== test.sh: preset $preset FAILED; the failed tests again, alone:"
    ctest --preset "$preset" --rerun-failed --output-on-failure || true
    exit 8
  fi
done
echo "== test.sh: exercise kits: all tasks stubbed, then every other task (each stub fails, each task alone)"
t0=$SECONDS
tests/exercises/kit_test.sh
echo "== test.sh: exercise kits graded in $((SECONDS - t0)) s"
echo "== test.sh: fuzzing the model, CSV and checkpoint readers (${NNLAB_FUZZ_SECONDS:-30} s each)"
cmake --preset fuzz -DNNLAB_FUZZ_SECONDS="${NNLAB_FUZZ_SECONDS:-30}" >/dev/null
t0=$SECONDS
cmake --build --preset fuzz -j "$jobs"
echo "== test.sh: preset fuzz built in $((SECONDS - t0)) s"
ctest --preset fuzz
echo "== test.sh: done in $SECONDS s"
