#!/usr/bin/env bash
# scripts/check-report.sh [RESULTS_DIR]: opens RESULTS_DIR/index.html (scripts/report.sh) in
# headless Chromium, offline, and checks that every lab of labs/ is on the page and every
# image loaded; the screenshot goes to RESULTS_DIR/report.png.  Exit 0 when both hold, 1
# when not, 77 when Chromium is not installed (ctest counts that as skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
res=$(cd "${1:-${NNLAB_RESULTS:-$PWD/results}}" && pwd)
page=$res/index.html
[[ -f $page ]] || { echo "check-report: $page is missing (scripts/report.sh writes it)" >&2; exit 1; }
chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n $chromium ]] || { echo "check-report: chromium is not installed (scripts/install-deps.sh installs it): skipped" >&2; exit 77; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --disable-gpu --no-first-run --user-data-dir="$profile" --virtual-time-budget=10000
       --proxy-server=127.0.0.1:9 --host-resolver-rules="MAP * ~NOTFOUND")  # offline: nothing may be fetched
[[ $(id -u) != 0 ]] || flags+=(--no-sandbox)
dom=$(timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$page" 2>/dev/null)
images=$(grep -o 'data-images="[0-9]*/[0-9]*"' <<<"$dom" | head -n 1 | sed 's/.*="\(.*\)"/\1/')
labs=$(grep -o 'data-labs="[0-9]*"' <<<"$dom" | head -n 1 | sed 's/.*="\(.*\)"/\1/')
want_labs=$(find labs -maxdepth 1 -name '[0-9][0-9]_*.cpp' | wc -l)
want_images=$(find "$res" -mindepth 2 -maxdepth 2 -path "$res/[0-9][0-9]_*/*.png" | wc -l)
timeout 120 "$chromium" "${flags[@]}" --window-size=1280,2400 --screenshot="$res/report.png" "file://$page" >/dev/null 2>&1 || true
status=0
if [[ -z $images || ${images%/*} != "${images#*/}" || ${images#*/} != "$want_images" ]]; then
  echo "check-report: images loaded: ${images:-none reported}; $want_images PNG files beside the page" >&2
  status=1
fi
if [[ $labs != "$want_labs" ]]; then
  echo "check-report: ${labs:-no} labs on the page, $want_labs in labs/" >&2
  status=1
fi
for f in labs/[0-9][0-9]_*.cpp; do
  id=$(basename "$f" .cpp)
  grep -q "id=\"$id\"" <<<"$dom" || { echo "check-report: lab $id is not on the page" >&2; status=1; }
done
[[ -s $res/report.png ]] || { echo "check-report: no screenshot" >&2; status=1; }
((status)) || echo "check-report: $labs labs, $images images loaded; screenshot $res/report.png"
exit $status
