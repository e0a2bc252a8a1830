// Asks the dynamic loader which libraries really provide BLAS and LAPACK.
#include "nnlab/runtime/blas.hpp"

#include <armadillo>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <sys/resource.h>
#include <thread>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <vector>
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
  std::string fixed;
  if (const char* was = std::getenv("NNLAB_BLAS_CORE_WAS"))
    fixed = "; OPENBLAS_CORETYPE set by nnlab: OpenBLAS had chosen its " + std::string(was) + " kernels";
  else if (const std::string want = blas_core_suggestion(); !want.empty())
    fixed = "; generic kernels on this CPU, 5x slower: set OPENBLAS_CORETYPE=" + want;
  return "BLAS " + b.blas_library + ", LAPACK " + b.lapack_library +
         (b.openblas ? " (" + b.openblas_config + ", " + std::to_string(b.threads) + " threads" + fixed + ")"
                     : " (not OpenBLAS)");
}

std::string blas_core() {
  touch_armadillo();
  using core_fn = char* (*)();
  const auto f = reinterpret_cast<core_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return f ? std::string(f()) : std::string();
}

std::string blas_core_suggestion() {
  // "Prescott" is the fallback of OpenBLAS's DYNAMIC_ARCH for a CPU not in its table.
  if (blas_core() != "Prescott") return "";
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

void use_fast_blas_kernels() {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("NNLAB_BLAS_CORE_WAS")) return;  // set, or done
  // Under mpirun too (before MPI_Init: the process keeps its pid and environment, as when a
  // launcher starts a script that execs the program): every rank must run the kernels the
  // single-process run uses, or their BLAS sums differ in the last bits.
  const std::string want = blas_core_suggestion();
  if (want.empty()) return;
  // The arguments as the kernel has them (NUL-separated), for any caller, argv or not.
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<char*> args;
  for (std::size_t i = 0; i < cmdline.size();) {
    args.push_back(const_cast<char*>(cmdline.c_str() + i));
    const std::size_t end = cmdline.find('\0', i);
    if (end == std::string::npos) break;
    i = end + 1;
  }
  if (args.empty()) return;
  args.push_back(nullptr);
  ::setenv("NNLAB_BLAS_CORE_WAS", blas_core().c_str(), 1);
  ::setenv("OPENBLAS_CORETYPE", want.c_str(), 1);
  std::fflush(nullptr);
  ::execv("/proc/self/exe", args.data());
  ::unsetenv("OPENBLAS_CORETYPE");  // the exec failed: go on with the kernels there are
  ::unsetenv("NNLAB_BLAS_CORE_WAS");
}

int set_blas_threads(int n) {
  // Looked up once: perf::thread_scaling calls this before every step it times.
  using set_fn = void (*)(int);
  using get_fn = int (*)();
  static const auto get = (touch_armadillo(), reinterpret_cast<get_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads")));
  static const auto set = reinterpret_cast<set_fn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const int old = get ? get() : 1;
  if (set && n >= 1) set(n);
  return old;
}

bool park_blas_threads() {
  using shutdown_fn = int (*)();
  static const auto shutdown =
      (touch_armadillo(), reinterpret_cast<shutdown_fn>(::dlsym(RTLD_DEFAULT, "blas_thread_shutdown_")));
  return shutdown && shutdown() == 0;
}

std::string address_space_problem() {
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return "";
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  const double mib = 1024.0 * 1024.0, have = double(lim.rlim_cur) / mib, need = 256 + 128.0 * threads;
  if (have >= need) return "";
  char msg[320];
  std::snprintf(msg, sizeof msg,
                "nnlab: the address-space limit (ulimit -v) is %.0f MiB; nnlab needs at least %.0f MiB on this machine "
                "(OpenBLAS reserves about 128 MiB for each of its %u threads): raise the limit",
                have, need, threads);
  return msg;
}

bool built_with_openmp() {
#ifdef NNLAB_HAVE_OPENMP
  return true;
#else
  return false;
#endif
}

void set_openmp_threads(int n) {
#ifdef NNLAB_HAVE_OPENMP
  if (n >= 1) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace nnlab
