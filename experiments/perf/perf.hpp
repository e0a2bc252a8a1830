// experiments/perf/perf.hpp -- what the benchmarks (experiments/bench_backends.cpp) and lab 15 measure.
//
//   Shape       layer sizes n_0..n_L and a batch m (ReLU hidden layers, identity output, mse)
//   flops       forward 2 m S, backward 4 m S, step 6 m S, with S = sum_l n_l n_{l-1}: one
//               multiply-add per weight and sample for Z = W A, dW = dZ A', dA = W' dZ
//               (dX included, so the count is exact; bias, activation and loss work is
//               not counted)
//   Bench<T>    one backend on one shape with its workspaces (cache, grads) allocated once:
//               forward(), backward() (on the last forward's cache), step() = forward + cost
//               + backward + SGD update taken in the pass (InPassSgd), the training step
//   GemmBench<T> the same products, the same shapes, straight to BLAS gemm on preallocated
//               buffers: the yardstick ("fraction of dgemm") measured in the same run
//   fma_peak()  a measured FMA throughput (GFLOP/s) of this machine, T = float or double
//
// Threads: the matrix backend and GemmBench use OpenBLAS threads, openmp its OpenMP threads;
// use_threads() gives the cores to the one that computes and sets the other to 1 (two spinning
// pools on two cores slow everything down 1.5-3x; lib/README.md, "Threads").
#pragma once
#include "nnlab/backends/backend.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnlab::perf {

struct Shape {
  std::string name;
  std::vector<std::size_t> sizes;  // n_0, ..., n_L
  std::size_t batch = 1;
};
std::string label(const Shape& s);           // e.g. "784-256-128-10/b128"
std::vector<Shape> named_shapes();           // the benchmark's four shapes
std::vector<Shape> width_sweep();            // w-w-w-10, batch 256, w = 16, 32, ..., 4096
std::vector<Shape> batch_sweep();            // 784-256-128-10, batch 1, 4, ..., 4096
// The shape of the three lists above whose label is `lab`; std::invalid_argument if none.
Shape shape_from_label(const std::string& lab);

enum class Op { forward, backward, step };
const char* name(Op op);
double flops(const Shape& s, Op op);

// give_cores(kind, threads) (nnlab/backends/backend.hpp), and Armadillo's own elementwise loops serial
void use_threads(BackendKind kind, int threads);

template <class T> class Bench {
 public:
  Bench(const Shape& s, BackendKind kind, int threads, std::uint64_t seed = 1);
  ~Bench();
  void forward();
  void backward();
  T step();  // returns the cost J before the update
  void run(Op op);

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
};

template <class T> class GemmBench {
 public:
  GemmBench(const Shape& s, int threads, std::uint64_t seed = 1);
  ~GemmBench();
  void forward();   // Z[l] = W[l] A[l-1]
  void backward();  // dW[l] = dZ[l] A[l-1]', dA[l-1] = W[l]' dZ[l]
  void step() { forward(); backward(); }
  void run(Op op);
  // The buffers (l = 0..L for A, dA; 0..L-1 for W, dW), for tests.
  const arma::Mat<T>& A(std::size_t l) const;
  const arma::Mat<T>& dA(std::size_t l) const;
  const arma::Mat<T>& W(std::size_t l) const;
  const arma::Mat<T>& dW(std::size_t l) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
};

// Measured FMA throughput in GFLOP/s on `threads` threads (independent fma chains in
// registers, best of 5 runs, about 0.3 s).  With threads > 1 it parks OpenBLAS's workers first
// (park_blas_threads, nnlab/runtime/blas.hpp).
template <class T> double fma_peak(int threads);
// The same FMA loop as blocks of paired rounds (a perf::BlockTimer): fma_block runs n calls on
// `threads` threads (2-4 ms each) and returns their seconds; each call is fma_call_flops
// flops.  With them a fraction of the peak is measured in the same moments as the work it
// judges (bench_backends), instead of against a peak measured minutes away.
template <class T> double fma_block(int threads, long n);
template <class T> double fma_call_flops(int threads);

// One measured case and the table both the benchmark and lab 15 write (backends.csv):
// precision,op,backend,threads,shape,sweep,flops,seconds,gflops,frac_gemm,frac_peak,
// torch_seconds,speedup_vs_torch,cpu_per_wall.  frac_gemm = gemm's time / this time for the same
// precision, op, threads and shape in `all` (0 when gemm was not measured); frac_peak =
// GFLOP/s / peak[precision + "/t" + threads]; torch keyed the same way as key(m, "torch").
struct Measurement {
  std::string precision, op, backend;
  int threads = 1;
  std::string shape, sweep;  // label(shape); "named", "width" or "batch"
  double flops = 0, seconds = 0;
  double cpu_per_wall = 0;   // process CPU time / wall time: the cores really kept busy (0: not measured)
};
std::string key(const Measurement& m, const std::string& backend);  // precision/op/backend/tN/shape
std::string table_csv(const std::vector<Measurement>& all, const std::map<std::string, double>& peak,
                      const std::map<std::string, double>& torch = {});

// Seconds per call of f: calls f once (warm-up), then in batches doubling in size until a
// batch takes min_seconds; returns the best per-call time of three such batches.
double seconds_per_call(const std::function<void()>& f, double min_seconds = 0.05);

// How many times faster b runs than a, measured in alternation so that a noisy host cannot
// decide it: after one warm-up call of each, rounds of one block of calls of a and one block
// of b (the block sizes fixed after calibration, each block about block_seconds, at least one
// call), the order of the two blocks swapped every round (a b, b a, a b, ...); each round gives
// ratio = (a's seconds per call) / (b's).  A slow spell of a shared machine, or a second core
// taken away for a second, lasts longer than a round: it hits both blocks of the round, or
// spoils a minority of the rounds, which the median ignores (the best times of two separate
// measurements are each taken in whatever moment was luckiest for it).  At least min_rounds
// rounds, more while the total stays under `seconds`.
// The machine's CPU time as the kernel accounts it (/proc/stat, line "cpu", all CPUs, in
// USER_HZ ticks): `total` = user + nice + system + idle + iowait + irq + softirq + steal, and
// `steal` = the time a virtual CPU wanted to run while the hypervisor ran something else (a
// neighbour on the host).  Steal on one vCPU stalls every barrier of a 2-thread step, so the
// benchmarks record it next to every 2-thread ratio.  {0, 0} where /proc/stat is unreadable.
struct CpuTicks {
  double total = 0, steal = 0;
};
CpuTicks parse_cpu_ticks(std::string_view proc_stat);  // its first line; {0, 0} if not "cpu ..."
CpuTicks cpu_ticks();                                  // parse_cpu_ticks of /proc/stat now
// The share of the ticks between two readings that were stolen; NaN when fewer than
// `min_ticks` passed (the kernel counts in 10 ms ticks: a few of them say nothing).
double steal_fraction(const CpuTicks& before, const CpuTicks& after, double min_ticks = 100);

// How far apart the two vCPUs are, now: the mean time of one round trip of a cache line
// between two threads pinned to the first two CPUs this process may run on (one writes, the
// other waits for the value and answers, `trips` times over 32 lines; ~2-10 ms), in
// nanoseconds.  NaN with fewer than two CPUs.  Parks OpenBLAS's workers first (spinning after a
// threaded call, they took the cores: 1.7-2 us per round trip); the calling thread's CPU
// affinity is restored.
// Steal accounting does not see where the hypervisor places the vCPUs, and a narrow network's
// 2-thread step, which moves a few hundred cache lines between the cores, slows down several
// times when they are far apart (experiments/README.md).  The benchmarks record it beside each
// 2-thread ratio, as they record steal.
double core_round_trip_ns(long trips = 20000);

struct PairedRatio {
  double median = 0, q1 = 0, q3 = 0;  // of the per-round ratios (quartiles: linear interpolation)
  double a_seconds = 0, b_seconds = 0;  // median seconds per call of a and of b
  int rounds = 0;
  long a_calls = 0, b_calls = 0;  // calls per block
  double steal = 0;               // steal_fraction over the whole measurement (NaN: too short)
};
PairedRatio paired_ratio(const std::function<void()>& a, const std::function<void()>& b, double seconds = 1.0,
                         double block_seconds = 0.01, int min_rounds = 7);
// The same rounds, each side timing its own blocks: block(n) runs n calls and returns their
// seconds.  For a side that runs elsewhere (the PyTorch process of the benchmark, which times
// its steps itself, so the pipe's latency is not counted) or that has untimed work around its
// calls (a warm-up call, parking its threads so that they do not spin beside the other side).
// paired_ratio(a, b) is paired_ratio_timed of blocks that time plain loops of a and of b.
using BlockTimer = std::function<double(long n)>;
PairedRatio paired_ratio_timed(const BlockTimer& a, const BlockTimer& b, double seconds = 1.0,
                               double block_seconds = 0.01, int min_rounds = 7);
// One block of paired rounds for a Bench or GemmBench (T = float, double): a warm-up step, n
// timed steps, then OpenBLAS's workers parked, untimed (park_blas_threads: left alone they
// spin on a core for 0.06-0.1 s after a threaded call, beside the other side's next block).
// Returns the n steps' seconds.  The benchmark's blocks against PyTorch and the FMA loop and
// thread_scaling's matrix blocks are this.
template <class B> double steps_then_park(B& b, long n);
// The q-quantile (0 <= q <= 1) of v, linear interpolation between order statistics (NumPy's
// default); v is taken by value and sorted.  Throws std::invalid_argument on an empty v.
double quantile(std::vector<double> v, double q);

// How many times faster one backend's training step runs on 2 threads than on 1, by paired
// rounds (paired_ratio: a = the step on 1 thread, b = on 2).  openmp: two backends of 1 and 2
// OpenMP threads side by side.  matrix: its threads are OpenBLAS's, one global setting, so
// each block sets the count and runs steps_then_park (a warm-up step, the timed steps, then
// the pool parked, so that no worker spins beside the next 1-thread block; paired_ratio_timed).
// Leaves the BLAS and OpenMP thread counts as use_threads(kind, 2) sets them.
template <class T>
PairedRatio thread_scaling(const Shape& s, BackendKind kind, double seconds = 1.0, double block_seconds = 0.01,
                           int min_rounds = 7);
// What two threads gain on this host, now, when they share nothing: the openmp step on 1
// thread and the whole batch (a) against two 1-thread openmp steps side by side in one OpenMP
// region (b), each on its own copy of the network and its own half of the batch (floor(m/2)
// and ceil(m/2) samples: split_halves), by paired rounds; ratio = a's time / b's.  Per thread
// the same samples as the 2-thread step, the same fork and join, both cores busy, but no
// gradient sum and no weights crossing between the two caches.  For the narrow networks, where
// the openmp backend splits the batch between its threads (the samples schedule), that bounds
// what any data-parallel step can reach at that moment: the gap from the 2-thread ratio up to
// it is what sharing the weights costs, the gap from it up to 2 is the host's.  For wide layers
// it is no bound: there the backend splits the rows of the weights between the threads, while
// the two copies here each stream all of them (it can come out lower than the 2-thread step).
// Without OpenMP the halves run one after the other.  Leaves the thread settings as
// use_threads(openmp, 2).  std::invalid_argument for a batch below 2.
template <class T>
PairedRatio split_scaling(const Shape& s, double seconds = 1.0, double block_seconds = 0.01, int min_rounds = 7);
std::pair<Shape, Shape> split_halves(const Shape& s);  // batches floor(m/2), ceil(m/2)
// scaling.csv (benchmark and lab 15): one row per backend and shape,
// precision,backend,shape,sweep,median,q1,q3,rounds,steal,split,split_q1,split_q3,round_trip_ns: the step's
// time on 1 thread / time on 2 (steal: PairedRatio::steal), and split_scaling's median and
// quartiles (0 where not measured: split.rounds == 0), then round_trip_ns: the larger
// core_round_trip_ns of the readings just before and just after the row's measurements (0:
// not measured).
struct Scaling {
  std::string precision, backend, shape, sweep;
  PairedRatio r;
  PairedRatio split = {};
  double round_trip_ns = 0;
};
std::string scaling_csv(const std::vector<Scaling>& rows);

}  // namespace nnlab::perf
