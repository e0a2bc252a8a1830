#!/usr/bin/env bash
# Installs a build of nnlab into a temporary prefix and uses it from outside, as a user would:
# the consumer project (find_package(nnlab), target nnlab::nnlab) and the same program built
# with pkg-config; then the installed bin/nnlab; and the installed interface carries none of
# the project's own flags.
#   tests/install/run.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/nnlab/nnlab.hpp include/nnlab/core/network.hpp bin/nnlab; do
  [[ -e "$prefix/$f" ]] || { echo "install: $f missing"; exit 1; }
done
shopt -s nullglob
configs=("$prefix"/lib*/cmake/nnlab/nnlabConfig.cmake "$prefix"/lib/*/cmake/nnlab/nnlabConfig.cmake)
pcs=("$prefix"/lib*/pkgconfig/nnlab.pc "$prefix"/lib/*/pkgconfig/nnlab.pc)
shopt -u nullglob
[[ ${#configs[@]} -ge 1 && ${#pcs[@]} -ge 1 ]] || { echo "install: nnlabConfig.cmake or nnlab.pc missing"; exit 1; }
config=${configs[0]} pc=${pcs[0]}
if grep -nE -- '-W(all|extra|error|pedantic)|-march|-fsanitize|ARMA_NO_DEBUG|NNLAB_HAVE' \
     "$(dirname "$config")"/*.cmake "$pc"; then
  echo "install: the installed interface carries the project's own flags (above)"; exit 1
fi
if find "$prefix/include/nnlab" -name '*_kernel.hpp' | grep -q .; then echo "install: a private header was installed"; exit 1; fi

echo "== find_package(nnlab)"
cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer"

echo "== pkg-config nnlab"
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir nnlab)
static=""  # a static libnnlab brings what it links (Libs.private, Requires.private)
[[ -e "$libdir/libnnlab.so" ]] || static=--static
# shellcheck disable=SC2046
g++ -O1 "$here/main.cpp" -o "$work/consumer_pc" $(pkg-config $static --cflags --libs nnlab) -Wl,-rpath,"$libdir"
"$work/consumer_pc" >/dev/null

echo "== $prefix/bin/nnlab --version"
"$prefix/bin/nnlab" --version
echo "install: ok"
