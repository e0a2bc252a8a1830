// perf::fma_peak, alone in this file because CMake compiles it with -O3 in every build
// type: at -O2 (RelWithDebInfo, the ci preset) GCC 12 does not unroll the inner loop, the
// accumulators stay in memory and the "peak" came out at 24 instead of 59 GFLOP/s a core.
//
// The chains are explicit vector registers (immintrin.h), not a loop left to the
// vectoriser: written as `acc[i] = fma(acc[i], a, b)` over 16 x 64 bytes, the loop fitted the
// 32 registers of an AVX-512 machine, but on an AVX2 one (16 registers of 32 bytes) GCC kept
// the 32 accumulators in memory and measured one FMA per cycle, half the peak (below
// OpenBLAS's own dgemm); and with -march=native GCC may
// prefer 256-bit vectors on an AVX-512 machine, which measures half of that machine's peak.
// Here the vector width is the widest this build may use (AVX-512: 64 bytes, AVX2 + FMA: 32),
// whatever GCC's preference.  Without FMA in the build (NNLAB_NATIVE=OFF) it falls back to
// scalar std::fma: then it measures what this build can do, not the machine.
#include "perf/perf.hpp"
#include "nnlab/runtime/blas.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

namespace nnlab::perf {

namespace {
// One vector register of T: lanes, broadcast, fused multiply-add, sum of the lanes.
template <class T> struct Vec;
// The lanes of a vector register, added in order.  (Not _mm512_reduce_add_pd: GCC 12's header
// trips -Wuninitialized inside it, a false positive that -Werror turns into a failed build.)
template <class T, class V> T sum_lanes(V x) {
  T v[sizeof(V) / sizeof(T)];
  std::memcpy(v, &x, sizeof v);
  T s = 0;
  for (T e : v) s += e;
  return s;
}
#if defined(__AVX512F__)
template <> struct Vec<double> {
  using type = __m512d;
  static constexpr int lanes = 8;
  static type set(double x) { return _mm512_set1_pd(x); }
  static type fma(type x, type a, type b) { return _mm512_fmadd_pd(x, a, b); }
  static double sum(type x) { return sum_lanes<double>(x); }
};
template <> struct Vec<float> {
  using type = __m512;
  static constexpr int lanes = 16;
  static type set(float x) { return _mm512_set1_ps(x); }
  static type fma(type x, type a, type b) { return _mm512_fmadd_ps(x, a, b); }
  static float sum(type x) { return sum_lanes<float>(x); }
};
#elif defined(__FMA__)
template <> struct Vec<double> {
  using type = __m256d;
  static constexpr int lanes = 4;
  static type set(double x) { return _mm256_set1_pd(x); }
  static type fma(type x, type a, type b) { return _mm256_fmadd_pd(x, a, b); }
  static double sum(type x) { return sum_lanes<double>(x); }
};
template <> struct Vec<float> {
  using type = __m256;
  static constexpr int lanes = 8;
  static type set(float x) { return _mm256_set1_ps(x); }
  static type fma(type x, type a, type b) { return _mm256_fmadd_ps(x, a, b); }
  static float sum(type x) { return sum_lanes<float>(x); }
};
#else
template <class T> struct Vec {
  using type = T;
  static constexpr int lanes = 1;
  static type set(T x) { return x; }
  static type fma(type x, type a, type b) { return std::fma(x, a, b); }
  static T sum(type x) { return x; }
};
#endif

// C independent chains: C >= latency (4 cycles) x FMA pipes (2) keeps both pipes busy, and
// C + 2 (a, b) <= 16 fits the smallest register file above.  One iteration: C FMAs.
constexpr int C = 12;
template <class T> T chains(long iters, int seed) {
  using V = Vec<T>;
  typename V::type acc[C];
  for (int i = 0; i < C; ++i) acc[i] = V::set(T(i + seed) * T(1e-3));
  const auto a = V::set(T(0.999999)), b = V::set(T(1e-7));
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < C; ++i) acc[i] = V::fma(acc[i], a, b);
  }
  T s = 0;
  for (int i = 0; i < C; ++i) s += V::sum(acc[i]);
  return s;
}
}  // namespace

// Iterations of one fma_peak run: ~0.03-0.06 s.
template <class T> long run_iters() { return 4'000'000 / Vec<T>::lanes * 8; }

template <class T> double fma_peak(int threads) {
  const long iters = run_iters<T>();
  double seconds = 1e30;
  int nt = 1;
  if (threads > 1) park_blas_threads();  // a BLAS worker spinning after its last call would take a core
  for (int rep = 0; rep < 5; ++rep) {  // best of 5: the machine is shared
    const auto t0 = std::chrono::steady_clock::now();
    T sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += chains<T>(iters, rep);
    seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!(sink == sink)) return 0;  // keeps the loop alive
  }
#if defined(NNLAB_HAVE_OPENMP)
  nt = threads;
#else
  (void)threads;
#endif
  return 2.0 * C * Vec<T>::lanes * double(iters) * nt / seconds * 1e-9;
}

// One call of the block: a sixteenth of a fma_peak run, 2-4 ms.
template <class T> long block_iters() { return run_iters<T>() / 16; }

template <class T> double fma_block(int threads, long n) {
#if !defined(NNLAB_HAVE_OPENMP)
  (void)threads;  // one thread without OpenMP (fma_call_flops counts it so)
#endif
  const auto t0 = std::chrono::steady_clock::now();
  T sink = 0;
  for (long k = 0; k < n; ++k) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += chains<T>(block_iters<T>(), int(k % 7));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sink == sink ? s : 1e30;  // keeps the loop alive
}

template <class T> double fma_call_flops(int threads) {
  int nt = 1;
#if defined(NNLAB_HAVE_OPENMP)
  nt = threads;
#else
  (void)threads;
#endif
  return 2.0 * C * Vec<T>::lanes * double(block_iters<T>()) * nt;
}

template double fma_peak<float>(int);
template double fma_peak<double>(int);
template double fma_block<float>(int, long);
template double fma_block<double>(int, long);
template double fma_call_flops<float>(int);
template double fma_call_flops<double>(int);

}  // namespace nnlab::perf
