// perf::fma_peak, alone in this file because CMake compiles it with -O3 in every build
// type: at -O2 (RelWithDebInfo, the ci preset) GCC 12 does not unroll the inner loop, the
// accumulators stay in memory and the "peak" came out at 24 instead of 59 GFLOP/s a core.
#include "nnlab/perf.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace nnlab::perf {

// 16 independent chains of 64-byte vectors: enough to cover the FMA latency (4 cycles) on
// two FMA pipes with room to spare.  Each chain step is one fused multiply-add (2 flops).
template <class T> double fma_peak(int threads) {
  constexpr int V = 64 / sizeof(T), C = 16, N = V * C;
  const long iters = 2'000'000;
  double seconds = 1e30;
  for (int rep = 0; rep < 5; ++rep) {  // best of 5: the machine is shared
    const auto t0 = std::chrono::steady_clock::now();
    T sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      alignas(64) T acc[N];
      for (int i = 0; i < N; ++i) acc[i] = T(i) * T(1e-3);
      const T a = T(0.999999), b = T(1e-7);
      for (long it = 0; it < iters; ++it) {
#pragma omp simd aligned(acc : 64)
        for (int i = 0; i < N; ++i) acc[i] = std::fma(acc[i], a, b);
      }
      for (int i = 0; i < N; ++i) sink += acc[i];
    }
    seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!(sink == sink)) return 0;  // keeps the loop alive
  }
  int nt = 1;
#if defined(NNLAB_HAVE_OPENMP)
  nt = threads;
#else
  (void)threads;
#endif
  return 2.0 * double(N) * double(iters) * nt / seconds * 1e-9;
}

template double fma_peak<float>(int);
template double fma_peak<double>(int);

}  // namespace nnlab::perf
