# Sourced by the scripts that run nnlab next to NumPy or PyTorch:  source scripts/blas-env.sh [preset]
# OpenBLAS 0.3.21 (Debian 12) falls back to its generic Prescott kernels on CPUs missing from
# its table (seen: Intel family 6 model 207), dgemm about 5x slower, and it reads the cure,
# OPENBLAS_CORETYPE, only when it loads.  nnlab's own programs re-execute themselves with it
# (nnlab/runtime/blas.hpp); this exports it for everything a script starts, NumPy and PyTorch included,
# so that comparisons run on the same kernels.  configure's probe (lib/cmake/CheckOpenBLAS.cmake)
# wrote the core type this CPU wants, or nothing, to build/<preset>/openblas_coretype.
nnlab_coretype_file="build/${1:-release}/openblas_coretype"
if [[ -z ${OPENBLAS_CORETYPE:-} && -s $nnlab_coretype_file ]]; then
  OPENBLAS_CORETYPE=$(<"$nnlab_coretype_file")
  export OPENBLAS_CORETYPE
  echo "blas-env: OpenBLAS would use its generic kernels on this CPU: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE exported" >&2
fi
unset nnlab_coretype_file
