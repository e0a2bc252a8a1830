// Configure-time probe, built with lib/nnlab/runtime/blas.cpp itself (the same code as nnlab::blas_info
// and nnlab::blas_core_suggestion, not a copy): which libraries provide dgemm_ and dgesdd_ once
// Armadillo is loaded, is it OpenBLAS, and which kernels did it pick?  Prints
// "BLAS=<path>;LAPACK=<path>;CORE=<kernels>;SUGGEST=<OPENBLAS_CORETYPE or empty>;OPENBLAS=<config or NO>".
#include "nnlab/runtime/blas.hpp"

#include <cstdio>

int main() {
  const nnlab::BlasInfo b = nnlab::blas_info();
  std::printf("BLAS=%s;LAPACK=%s;CORE=%s;SUGGEST=%s;OPENBLAS=%s", b.blas_library.c_str(), b.lapack_library.c_str(),
              nnlab::blas_core().c_str(), nnlab::blas_core_suggestion().c_str(),
              b.openblas ? b.openblas_config.c_str() : "NO");
  return 0;
}
