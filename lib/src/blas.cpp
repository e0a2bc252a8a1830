// Asks the dynamic loader which libraries really provide BLAS and LAPACK.
#include "nnlab/blas.hpp"

#include <armadillo>
#include <dlfcn.h>
#ifdef NNLAB_HAVE_OPENMP
#include <omp.h>
#endif

namespace nnlab {

namespace {
std::string provider(const char* symbol) {
  void* p = ::dlsym(RTLD_DEFAULT, symbol);
  if (!p) return "(not found)";
  Dl_info info{};
  if (::dladdr(p, &info) == 0 || !info.dli_fname) return "(unknown)";
  char buf[4096];
  const char* real = ::realpath(info.dli_fname, buf);
  return real ? real : info.dli_fname;
}
// Makes sure Armadillo's wrapper (and so libblas/liblapack) is loaded before we look.
void touch_armadillo() {
  static const bool once = [] {
    arma::mat A(4, 4, arma::fill::eye), B = A * A;
    arma::vec s = arma::svd(B);
    return s.n_elem == 4;
  }();
  (void)once;
}
}  // namespace

BlasInfo blas_info() {
  touch_armadillo();
  BlasInfo b;
  b.blas_library = provider("dgemm_");
  b.lapack_library = provider("dgesdd_");
  using cfg_fn = char* (*)();
  using thr_fn = int (*)();
  if (auto f = reinterpret_cast<cfg_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    b.openblas = true;
    b.openblas_config = f();
    if (auto t = reinterpret_cast<thr_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) b.threads = t();
  }
  return b;
}

std::string describe(const BlasInfo& b) {
  return "BLAS " + b.blas_library + ", LAPACK " + b.lapack_library +
         (b.openblas ? " (" + b.openblas_config + ", " + std::to_string(b.threads) + " threads)"
                     : " (not OpenBLAS)");
}

int set_blas_threads(int n) {
  touch_armadillo();
  using set_fn = void (*)(int);
  using get_fn = int (*)();
  auto get = reinterpret_cast<get_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto set = reinterpret_cast<set_fn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const int old = get ? get() : 1;
  if (set && n >= 1) set(n);
  return old;
}

void set_openmp_threads(int n) {
#ifdef NNLAB_HAVE_OPENMP
  if (n >= 1) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace nnlab
