// Configure-time probe: which libraries provide dgemm_ and dgesdd_ once Armadillo is
// loaded, and is it OpenBLAS?  Prints "BLAS=<path>;LAPACK=<path>;OPENBLAS=<config or NO>".
#include <armadillo>
#include <cstdio>
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
  std::printf("BLAS=%s;LAPACK=%s;OPENBLAS=%s", provider("dgemm_"), provider("dgesdd_"), f ? f() : "NO");
  return s.n_elem == 64 ? 0 : 1;
}
