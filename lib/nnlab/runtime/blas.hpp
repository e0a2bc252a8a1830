// nnlab/runtime/blas.hpp -- which BLAS and LAPACK Armadillo really calls, and their threads.
//
// Debian's Armadillo calls libblas.so.3 / liblapack.so.3, which the alternatives system
// points at OpenBLAS once libopenblas-dev is installed (or at the reference BLAS, 15x
// slower).  blas_info() asks the dynamic loader which file provides dgemm_ and dgesdd_,
// and whether OpenBLAS's own entry points are present.
#pragma once
#include <armadillo>

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

// OpenBLAS's kernels.  A DYNAMIC_ARCH OpenBLAS (Debian's) picks them from its table of CPU
// models when it loads.  0.3.21 (Debian 12) does not know some later CPUs (seen: Intel
// family 6 model 207, with AVX-512) and falls back to its generic "Prescott" (SSE3) kernels,
// about 5x slower.  It reads OPENBLAS_CORETYPE only when it loads,
// so the cure must be in the environment before the process starts.
//   blas_core()              the kernels in use: "SkylakeX", "Haswell", "Prescott", ...
//                            ("" when the BLAS is not OpenBLAS)
//   blas_core_suggestion()   "" when the kernels suit this CPU; otherwise the OPENBLAS_CORETYPE
//                            that does: SkylakeX with AVX-512F, Haswell with AVX2 and FMA
//   use_fast_blas_kernels()  when there is a suggestion and OPENBLAS_CORETYPE is unset: sets
//                            OPENBLAS_CORETYPE and re-executes the program (/proc/self/exe,
//                            the same arguments, nothing printed).  Returns when there is
//                            nothing to do or the exec failed.  Call it first thing in main,
//                            before MPI_Init (every MPI rank must use the same kernels as the
//                            single-process run); the nnlab CLI, the labs and the benchmarks
//                            do.  scripts/blas-env.sh exports the same for NumPy and PyTorch.
std::string blas_core();
std::string blas_core_suggestion();
void use_fast_blas_kernels();

// C = alpha op(A) op(B) + beta C, one call to the BLAS gemm (dgemm_/sgemm_ through Armadillo's
// wrapper); op = 'N' or 'T'.  C keeps its size: the caller sizes it (no checks, no allocation).
// The matrix backend's in-pass SGD update (and the benchmark's yardstick).
template <class T>
void gemm(char ta, char tb, T alpha, const arma::Mat<T>& A, const arma::Mat<T>& B, T beta, arma::Mat<T>& C) {
  const arma::blas_int m = arma::blas_int(C.n_rows), n = arma::blas_int(C.n_cols);
  const arma::blas_int k = arma::blas_int(ta == 'N' ? A.n_cols : A.n_rows);
  const arma::blas_int lda = arma::blas_int(A.n_rows), ldb = arma::blas_int(B.n_rows), ldc = m;
  arma::blas::gemm<T>(&ta, &tb, &m, &n, &k, &alpha, A.memptr(), &lda, B.memptr(), &ldb, &beta, C.memptr(), &ldc);
}

// Sets OpenBLAS's thread count (no effect on another BLAS).  Returns the previous count.
int set_blas_threads(int n);
// OpenBLAS's worker threads do not sleep when a threaded call ends (or the library loads): they
// spin for 2^28 TSC cycles, about 0.1 s.  An OpenMP team that starts in that window shares a
// core with a spinner, and its barriers wait out scheduler ticks (lib/README.md, "Threads").
//   park_blas_threads()  ends OpenBLAS's worker threads now (its blas_thread_shutdown_, the
//                        routine it runs around fork) and keeps the thread count; the next
//                        threaded BLAS call starts them again.  Call it from one thread,
//                        outside parallel regions, when OpenMP takes the cores.  Returns false
//                        when there is nothing to park (not OpenBLAS, or one without the
//                        routine).
bool park_blas_threads();
// "" when the process may use as much address space as OpenBLAS needs; otherwise one line that
// says what the limit (ulimit -v) is and what is needed.  Under a small limit OpenBLAS's threads
// retry their buffer allocation forever (each reserves about 128 MiB): the command line checks
// this first and stops with the line instead of hanging.
std::string address_space_problem();
// Whether libnnlab was built with OpenMP (without it the openmp backend runs its loops on one
// thread).
bool built_with_openmp();
// Sets the OpenMP thread count that Armadillo's own elementwise loops use (it parallelises
// large elementwise expressions when built with OpenMP).  No effect without OpenMP.
void set_openmp_threads(int n);

}  // namespace nnlab
