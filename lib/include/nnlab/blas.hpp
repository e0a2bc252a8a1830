// nnlab/blas.hpp -- which BLAS and LAPACK Armadillo really calls, and their threads.
//
// Debian's Armadillo calls libblas.so.3 / liblapack.so.3, which the alternatives system
// points at OpenBLAS once libopenblas-dev is installed (or at the reference BLAS, 15x
// slower).  blas_info() asks the dynamic loader which file provides dgemm_ and dgesdd_,
// and whether OpenBLAS's own entry points are present.
#pragma once
#include <string>

namespace nnlab {

struct BlasInfo {
  std::string blas_library;    // file that provides dgemm_
  std::string lapack_library;  // file that provides dgesdd_
  bool openblas = false;       // openblas_get_config() is present
  std::string openblas_config; // its answer, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
  int threads = 1;             // OpenBLAS threads now (1 if not OpenBLAS)
};
BlasInfo blas_info();
std::string describe(const BlasInfo& b);  // one line for logs
// Sets OpenBLAS's thread count (no effect on another BLAS).  Returns the previous count.
int set_blas_threads(int n);
// Sets the OpenMP thread count that Armadillo's own elementwise loops use (it parallelises
// large elementwise expressions when built with OpenMP).  No effect without OpenMP.
void set_openmp_threads(int n);

}  // namespace nnlab
