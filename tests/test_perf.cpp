// perf module: flop counts by hand, the benchmark step against the reference backend, the
// gemm yardstick against Armadillo, and that a steady-state training step allocates nothing (malloc and posix_memalign are counted by interposition below); the
// paired-rounds protocol (paired_ratio, thread_scaling) and the CSV they feed.
#include "perf/perf.hpp"
#include "helpers.hpp"

#include "nnlab/runtime/blas.hpp"

#include <catch2/catch.hpp>
#include <pthread.h>
#include <sched.h>
#include <chrono>
#include <cmath>
#include <dlfcn.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

using namespace nnlab;
using namespace nnlab::perf;

// ---- allocation counter: this executable's malloc/posix_memalign/aligned_alloc/calloc/
// realloc count calls while g_counting is set, then forward to the C library's (dlsym
// RTLD_NEXT; the few bytes dlsym itself may ask for come from a static buffer).  Not built
// with the sanitizers, which interpose these functions themselves.
namespace {
std::atomic<long> g_allocs{0}, g_blas_allocs{0};
std::atomic<bool> g_counting{false};
alignas(64) char g_boot[8192];
std::size_t g_boot_used = 0;
bool in_boot(void* p) { return p >= g_boot && p < g_boot + sizeof g_boot; }
void* boot_alloc(std::size_t n) {
  void* p = g_boot + g_boot_used;
  g_boot_used += (n + 63) / 64 * 64;
  return p;
}
template <class F> F real(const char* name) { return reinterpret_cast<F>(dlsym(RTLD_NEXT, name)); }
// Allocations made by the BLAS itself (OpenBLAS's threaded gemm mallocs its job queue on
// every call) are counted apart: the claim is about nnlab's own code.
void count(void* caller) {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  Dl_info info{};
  if (dladdr(caller, &info) && info.dli_fname && std::strstr(info.dli_fname, "blas")) ++g_blas_allocs;
  else ++g_allocs;
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  static thread_local bool resolving = false;
  static void* (*f)(std::size_t) = nullptr;
  if (!f) {
    if (resolving) return boot_alloc(n);
    resolving = true;
    f = real<void* (*)(std::size_t)>("malloc");
    resolving = false;
  }
  count(__builtin_return_address(0));
  return f(n);
}
void free(void* p) {
  static void (*f)(void*) = real<void (*)(void*)>("free");
  if (!in_boot(p)) f(p);
}
void* calloc(std::size_t n, std::size_t s) {
  static bool resolving = false;
  static void* (*f)(std::size_t, std::size_t) = nullptr;
  if (!f) {
    if (resolving) { void* p = boot_alloc(n * s); std::memset(p, 0, n * s); return p; }
    resolving = true;
    f = real<void* (*)(std::size_t, std::size_t)>("calloc");
    resolving = false;
  }
  count(__builtin_return_address(0));
  return f(n, s);
}
void* realloc(void* p, std::size_t n) {
  static void* (*f)(void*, std::size_t) = real<void* (*)(void*, std::size_t)>("realloc");
  count(__builtin_return_address(0));
  if (in_boot(p)) { void* q = malloc(n); std::memcpy(q, p, n); return q; }
  return f(p, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
  static int (*f)(void**, std::size_t, std::size_t) = real<int (*)(void**, std::size_t, std::size_t)>("posix_memalign");
  count(__builtin_return_address(0));
  return f(p, a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  static void* (*f)(std::size_t, std::size_t) = real<void* (*)(std::size_t, std::size_t)>("aligned_alloc");
  count(__builtin_return_address(0));
  return f(a, n);
}
}

namespace {
template <class F> long allocations_during(F&& f) {
  g_allocs = 0;
  g_blas_allocs = 0;
  g_counting = true;
  f();
  g_counting = false;
  return g_allocs.load();
}
}  // namespace

TEST_CASE("flop counts by hand", "[perf]") {
  const Shape tiny{"tiny", {2, 4, 1}, 4};  // S = 2*4 + 4*1 = 12 weights
  CHECK(flops(tiny, Op::forward) == 2 * 4 * 12);
  CHECK(flops(tiny, Op::backward) == 4 * 4 * 12);
  CHECK(flops(tiny, Op::step) == 6 * 4 * 12);
  const Shape wide{"w", {1024, 1024, 1024, 10}, 512};
  CHECK(flops(wide, Op::step) == Approx(6.0 * 512 * (2.0 * 1024 * 1024 + 10240)).epsilon(1e-15));
  CHECK(label(wide) == "1024-1024-1024-10/b512");
  CHECK(shape_from_label("1024-1024-1024-10/b512").sizes == wide.sizes);
  CHECK(shape_from_label("1024-1024-1024-10/b512").batch == 512);
  CHECK(shape_from_label("16-16-16-10/b256").sizes[1] == 16);  // from the width sweep
  CHECK_THROWS_AS(shape_from_label("1024-1024-1024-10/b513"), std::invalid_argument);
}

TEMPLATE_TEST_CASE("the benchmark step: every backend gives the reference's cost sequence", "[perf]", float,
                   double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 2e-4 : 1e-12;
  for (const Shape& s : {Shape{"a", {7, 33, 18, 3}, 37}, Shape{"b", {2, 4, 1}, 4}}) {
    Bench<T> ref(s, BackendKind::naive, 1);
    std::vector<T> J0;
    for (int i = 0; i < 5; ++i) J0.push_back(ref.step());
    CHECK(J0.back() < J0.front());  // SGD on mse: the cost goes down
    for (BackendKind k : {BackendKind::matrix, BackendKind::openmp, BackendKind::graph}) {
      Bench<T> b(s, k, 2);
      for (int i = 0; i < 5; ++i) {
        INFO(label(s) << " " << name(k) << " step " << i);
        CHECK(std::abs(double(b.step()) - double(J0[std::size_t(i)])) <= tol * std::abs(double(J0[std::size_t(i)])));
      }
    }
  }
}

TEST_CASE("the gemm yardstick computes the products it claims", "[perf]") {
  const Shape s{"g", {13, 21, 5}, 9};
  GemmBench<double> g(s, 1, 3);
  g.forward();
  for (std::size_t l = 0; l < 2; ++l)
    CHECK(arma::norm(g.A(l + 1) - g.W(l) * g.A(l), "fro") <= 1e-14 * arma::norm(g.A(l + 1), "fro"));
  const arma::mat dA2 = g.dA(2), dA1_before = g.dA(1);
  g.backward();
  CHECK(arma::norm(g.dW(1) - dA2 * g.A(1).t(), "fro") <= 1e-14 * arma::norm(g.dW(1), "fro"));
  CHECK(arma::norm(g.dA(1) - g.W(1).t() * dA2, "fro") <= 1e-14 * arma::norm(g.dA(1), "fro"));
  CHECK(arma::norm(g.dA(1) - dA1_before, "fro") > 0);  // really overwritten
  CHECK(arma::norm(g.dW(0) - g.dA(1) * g.A(0).t(), "fro") <= 1e-14 * arma::norm(g.dW(0), "fro"));
  CHECK(arma::norm(g.dA(0) - g.W(0).t() * g.dA(1), "fro") <= 1e-14 * arma::norm(g.dA(0), "fro"));
}

TEMPLATE_TEST_CASE("a steady-state step allocates nothing (matrix, openmp)", "[perf][alloc]", float, double) {
  using T = TestType;
  // The counter sees allocations (Armadillo's posix_memalign for a large matrix, malloc for a vector).
  CHECK(allocations_during([] { arma::Mat<T> M(100, 100); M.fill(T(1)); }) >= 1);
  CHECK(allocations_during([] { std::vector<double> v(1000, 1.0); (void)v; }) >= 1);
  // the named shapes (openmp: tiles schedule) and a narrow one (openmp: samples schedule, the
  // single-region value_and_grad)
  auto shapes = named_shapes();
  shapes.push_back(width_sweep().front());
  REQUIRE(shapes.back().sizes[1] == 16);
  for (const Shape& s : shapes) {
    if (s.sizes[1] > 512) continue;  // the wide shape adds nothing but time
    for (BackendKind k : {BackendKind::matrix, BackendKind::openmp}) {
      Bench<T> b(s, k, 2);
      b.step();
      const long n = allocations_during([&] { for (int i = 0; i < 3; ++i) b.step(); });
      INFO(label(s) << " " << name(k) << ": " << g_blas_allocs.load() << " allocations inside the BLAS");
      CHECK(n == 0);
    }
  }
}


TEST_CASE("quantiles: linear interpolation between order statistics (NumPy's default)", "[perf]") {
  const std::vector<double> v{3, 1, 2, 4};
  CHECK(quantile(v, 0.0) == 1);
  CHECK(quantile(v, 1.0) == 4);
  CHECK(quantile(v, 0.5) == 2.5);
  CHECK(quantile(v, 0.25) == 1.75);  // h = 0.75 between 1 and 2
  CHECK(quantile({7}, 0.3) == 7);
  CHECK_THROWS_AS(quantile({}, 0.5), std::invalid_argument);
}

TEST_CASE("paired_ratio alternates equal blocks of the two calls, the order swapped every round", "[perf]") {
  std::string calls;
  const auto a = [&] { calls.push_back('a'); };
  const auto b = [&] { calls.push_back('b'); };
  // seconds = 0: exactly min_rounds rounds after the calibration.
  const PairedRatio r = paired_ratio(a, b, 0.0, 1e-4, 5);
  REQUIRE(r.rounds == 5);
  REQUIRE(r.a_calls >= 1);
  REQUIRE(r.b_calls >= 1);
  const std::string A(std::size_t(r.a_calls), 'a'), B(std::size_t(r.b_calls), 'b');
  const std::string rounds = A + B + B + A + A + B + B + A + A + B;
  REQUIRE(calls.size() > rounds.size());
  CHECK(calls.substr(calls.size() - rounds.size()) == rounds);
  // The calibration before them: a's warm-up call and timing calls, then b's.
  const std::string head = calls.substr(0, calls.size() - rounds.size());
  REQUIRE(head.find('b') != std::string::npos);
  CHECK(head.find_last_of('a') < head.find_first_of('b'));
}

TEST_CASE("paired_ratio_timed: the sides' own times make the ratios; calls per block from the calibration", "[perf]") {
  // Synthetic blocks (powers of two, so that every quotient is exact): a takes 2^-8 s a call,
  // b 2^-10 s, except b's 4th timed block, 10 times slower (a noisy moment): the median of the
  // rounds ignores it.
  std::vector<long> a_asked;
  int b_blocks = 0;
  const double ta = std::ldexp(1.0, -8), tb = std::ldexp(1.0, -10), block = std::ldexp(1.0, -5);
  const BlockTimer a = [&](long n) { a_asked.push_back(n); return ta * double(n); };
  const BlockTimer b = [&](long n) { return (++b_blocks == 4 + 4 ? 10 : 1) * tb * double(n); };
  const PairedRatio r = paired_ratio_timed(a, b, 0.0, block, 7);  // seconds = 0: exactly 7 rounds
  REQUIRE(r.rounds == 7);
  // Calibration: a warm-up block of 1 call, then blocks of 1, 2, 4, ... calls until one lasts a
  // tenth of a block (a: 1 call of 3.9 ms; b: 1, 2, then 4 calls); calls = n * block / its time.
  CHECK(r.a_calls == 8);
  CHECK(r.b_calls == 32);
  CHECK(a_asked == std::vector<long>{1, 1, 8, 8, 8, 8, 8, 8, 8});
  CHECK(r.median == 4.0);
  CHECK(r.q1 == 4.0);
  CHECK(r.q3 == 4.0);
  CHECK(r.a_seconds == ta);
  CHECK(r.b_seconds == tb);
}

TEST_CASE("steps_then_park: a warm-up step and the timed steps, then OpenBLAS's workers parked", "[perf]") {
  const int old = set_blas_threads(2);
  GemmBench<double> g(Shape{"mid", {300, 400, 200}, 300}, 2);
  g.step();  // threaded calls: the pool is up
  const std::size_t with_pool = nnlab::test::process_threads();
  const arma::mat W0 = g.W(0);
  const double s = steps_then_park(g, 3);
  // counted before the checks' own products below restart the pool
  const std::size_t after = nnlab::test::process_threads_once_below(with_pool);
  if (blas_info().openblas) CHECK(after < with_pool);          // parked
  CHECK(s > 0);
  CHECK(s < 10);  // seconds of three small steps, not a sentinel
  // The block ran the products (dW(0) = dA(1) A(0)' from the yardstick's buffers) and left W alone.
  CHECK(arma::approx_equal(g.dW(0), g.dA(1) * g.A(0).t(), "reldiff", 1e-12));
  CHECK(arma::approx_equal(g.W(0), W0, "absdiff", 0.0));
  if (blas_info().openblas) CHECK(blas_info().threads == 2);  // the count is kept
  set_blas_threads(old);
}

TEST_CASE("fma_block: the peak's loop in blocks, its flop count per call", "[perf]") {
  // A call runs a fixed number of FMA lanes (the iterations scale down as the register's lanes
  // go up: float calls take half as long); with OpenMP, 2 threads do twice the work.
  CHECK(fma_call_flops<float>(1) == fma_call_flops<double>(1));
#if defined(NNLAB_HAVE_OPENMP)
  CHECK(fma_call_flops<double>(2) == 2 * fma_call_flops<double>(1));
#endif
  CHECK(fma_call_flops<double>(1) > 1e6);  // milliseconds of work, not a clock tick
  const double s2 = fma_block<double>(1, 2);
  CHECK(s2 > 0);
  CHECK(s2 < 1e29);  // the sentinel of a NaN sum: the chains stayed finite
}

TEST_CASE("thread_scaling: paired rounds of the step on 1 and 2 threads, the thread settings left for 2", "[perf]") {
  const Shape s{"small", {8, 16, 4}, 32};
  for (BackendKind k : {BackendKind::matrix, BackendKind::openmp}) {
    const PairedRatio r = thread_scaling<double>(s, k, 0.0, 1e-4, 4);  // seconds = 0: exactly 4 rounds
    CHECK(r.rounds == 4);
    // use_threads(k, 2): OpenBLAS gets the 2 threads for matrix, 1 for openmp (which has its own).
    const BlasInfo b = blas_info();
    if (b.openblas) CHECK(b.threads == (k == BackendKind::matrix ? 2 : 1));
  }
}

TEST_CASE("scaling.csv: a header and one row per backend and shape, split 0 where not measured", "[perf]") {
  PairedRatio r, c;
  r.median = 1.5, r.q1 = 1.25, r.q3 = 1.75, r.rounds = 9, r.steal = 0.0125;
  c.median = 1.875, c.q1 = 1.5, c.q3 = 1.9375, c.rounds = 7;
  const std::string csv = scaling_csv({{"double", "openmp", "16-16-16-10/b256", "width", r, c, 56.25},
                                       {"double", "matrix", "16-16-16-10/b256", "width", r}});
  CHECK(csv == "precision,backend,shape,sweep,median,q1,q3,rounds,steal,split,split_q1,split_q3,round_trip_ns\n"
               "double,openmp,16-16-16-10/b256,width,1.5,1.25,1.75,9,0.0125,1.875,1.5,1.938,56.25\n"
               "double,matrix,16-16-16-10/b256,width,1.5,1.25,1.75,9,0.0125,0,0,0,0\n");
}

TEST_CASE("core_round_trip_ns: a cache line's round trip between two CPUs, the caller's affinity restored", "[perf]") {
  cpu_set_t before, after;
  REQUIRE(pthread_getaffinity_np(pthread_self(), sizeof before, &before) == 0);
  const double ns = core_round_trip_ns(2000);
  REQUIRE(pthread_getaffinity_np(pthread_self(), sizeof after, &after) == 0);
  CHECK(CPU_EQUAL(&before, &after));
  if (CPU_COUNT(&before) < 2) {
    CHECK(std::isnan(ns));
  } else {
    // Two cores exchange a line in 20-1000 ns (same package: ~50; other socket or host
    // placement: ~350 here); the floor and ceiling leave room for any real machine, and a
    // value outside them is a broken measurement (a missed wait, a wrong unit).
    CHECK(ns > 5);
    CHECK(ns < 1e5);
  }
  CHECK(std::isnan(core_round_trip_ns(0)));
}

TEST_CASE("split_halves: the batch cut in floor(m/2) and ceil(m/2), the layers kept", "[perf]") {
  const Shape s{"odd", {8, 16, 4}, 5};
  const auto [a, b] = split_halves(s);
  CHECK(a.batch == 2);
  CHECK(b.batch == 3);
  CHECK(a.sizes == s.sizes);
  CHECK(b.sizes == s.sizes);
  CHECK(split_halves(shape_from_label("16-16-16-10/b256")).first.batch == 128);
  CHECK(split_halves(shape_from_label("16-16-16-10/b256")).second.batch == 128);
  CHECK_THROWS_AS(split_halves(Shape{"one", {2, 4, 1}, 1}), std::invalid_argument);
}

TEST_CASE("split_scaling: paired rounds of the whole step on 1 thread against two halves side by side", "[perf]") {
  const Shape s{"small", {8, 16, 4}, 33};
  for (int rep = 0; rep < 2; ++rep) {  // twice: the second call reuses the thread settings the first left
    const PairedRatio r = split_scaling<double>(s, 0.0, 1e-4, 4);  // seconds = 0: exactly 4 rounds
    CHECK(r.rounds == 4);
    CHECK(std::isfinite(r.median));
    CHECK(r.median > 0);  // both sides' times measured
    const BlasInfo b = blas_info();  // use_threads(openmp, 2): OpenBLAS left at 1 thread
    if (b.openblas) CHECK(b.threads == 1);
  }
  CHECK_THROWS_AS(split_scaling<double>(Shape{"one", {2, 4, 1}, 1}, 0.0, 1e-4, 2), std::invalid_argument);
}

TEST_CASE("cpu_ticks: /proc/stat's cpu line, total and steal, and the stolen share between two readings", "[perf]") {
  // A line as this machine's kernel writes it: user nice system idle iowait irq softirq steal guest guest_nice.
  const CpuTicks t = parse_cpu_ticks("cpu  552948 0 49507 302259 813 0 522 20505 7 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  CHECK(t.total == 552948 + 49507 + 302259 + 813 + 522 + 20505);  // guest is already in user
  CHECK(t.steal == 20505);
  // An older kernel without the steal column: steal 0, total of what is there.
  const CpuTicks old = parse_cpu_ticks("cpu  10 20 30 40");
  CHECK(old.total == 100);
  CHECK(old.steal == 0);
  CHECK(parse_cpu_ticks("cpu0 1 2 3 4 5 6 7 8").total == 0);  // not the all-CPU line
  CHECK(parse_cpu_ticks("").total == 0);
  CHECK(steal_fraction({1000, 10}, {1400, 60}) == Approx(50.0 / 400.0));
  CHECK(std::isnan(steal_fraction({1000, 10}, {1099, 60})));  // under 100 ticks: too short to tell
  CHECK(steal_fraction({1000, 10}, {1099, 60}, 50) == Approx(50.0 / 99.0));
  CHECK(std::isnan(steal_fraction({1000, 10}, {1000, 10}, 0)));
  // The live reading: monotone, and steal a share of the total.
  const CpuTicks a = cpu_ticks();
  volatile double x = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(30)) x = x + 1;
  const CpuTicks b = cpu_ticks();
  REQUIRE(a.total > 0);
  CHECK(b.total > a.total);  // 30 ms of 10 ms ticks on every CPU
  CHECK(b.steal >= a.steal);
}
