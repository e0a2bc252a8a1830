// Configure-time probe: which libraries provide dgemm_ and dgesdd_ once Armadillo is
// loaded, and is it OpenBLAS?  Prints
// "BLAS=<path>;LAPACK=<path>;CORE=<kernels>;SUGGEST=<OPENBLAS_CORETYPE or empty>;OPENBLAS=<config or NO>".
#include <armadillo>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>

static const char* provider(const char* sym) {
  void* p = dlsym(RTLD_DEFAULT, sym);
  Dl_info info{};
  if (!p || !dladdr(p, &info) || !info.dli_fname) return "(not found)";
  static char buf[2][4096];
  static int k = 0;
  char* b = buf[k++ % 2];
  return realpath(info.dli_fname, b) ? b : info.dli_fname;
}

int main() {
  arma::mat A(64, 64, arma::fill::randu), B = A * A;
  arma::vec s = arma::svd(B);
  using cfg = char* (*)();
  auto f = reinterpret_cast<cfg>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  // OpenBLAS's kernels, and the OPENBLAS_CORETYPE this CPU wants when they are the generic
  // fallback for CPUs its table does not know (the rule of nnlab::blas_core_suggestion()).
  auto core = reinterpret_cast<cfg>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core ? core() : "";
  const char* want = "";
  __builtin_cpu_init();
  if (std::strcmp(name, "Prescott") == 0) {
    if (__builtin_cpu_supports("avx512f")) want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) want = "Haswell";
  }
  std::printf("BLAS=%s;LAPACK=%s;CORE=%s;SUGGEST=%s;OPENBLAS=%s", provider("dgemm_"), provider("dgesdd_"), name, want,
              f ? f() : "NO");
  return s.n_elem == 64 ? 0 : 1;
}
