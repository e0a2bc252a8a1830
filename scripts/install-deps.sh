#!/usr/bin/env bash
# Installs the Debian packages nnlab needs -- only the missing ones, so it is fast (a few
# dpkg queries) when everything is present.  Idempotent.  Needs root or sudo to install.
#   scripts/install-deps.sh            build, test, labs, plots, the report's check
#   scripts/install-deps.sh --reference   also PyTorch, NumPy, SciPy (the independent reference
#                                          checks, ctest -L reference; skipped without them)
set -euo pipefail
pkgs=(
  build-essential cmake                       # compiler, CMake >= 3.25
  libarmadillo-dev liblapack-dev libopenblas-dev   # Armadillo over OpenBLAS + LAPACK
  catch2 nlohmann-json3-dev libcli11-dev libbenchmark-dev
  libgnuplot-iostream-dev gnuplot-nox         # plots (gnuplot-iostream needs boost)
  libboost-iostreams-dev libboost-filesystem-dev libboost-system-dev
  graphviz                                    # computational-graph pictures (dot)
  libglpk-dev                                 # linear programs: separability certificates
  clang libclang-rt-14-dev                    # libFuzzer targets
  dataset-fashion-mnist zlib1g-dev            # the real data set, read from its .gz files
  libopenmpi-dev openmpi-bin                  # MPI: data-parallel training, distributed sweeps
  chromium                                    # the labs' report opened headless (scripts/check-report.sh)
)
if [[ "${1:-}" == "--reference" ]]; then pkgs+=(python3-torch python3-numpy python3-scipy); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} Debian packages present"
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
