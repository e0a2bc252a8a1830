// Benchmarks' building blocks (see perf.hpp).
#include "perf/perf.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/methods/optim.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include <pthread.h>
#include <sched.h>
#if defined(NNLAB_HAVE_OPENMP)
#include <omp.h>
#endif

namespace nnlab::perf {

std::string label(const Shape& s) {
  std::string r;
  for (std::size_t i = 0; i < s.sizes.size(); ++i) {
    if (i) r.push_back('-');
    r.append(std::to_string(s.sizes[i]));
  }
  r.append("/b");
  r.append(std::to_string(s.batch));
  return r;
}

std::vector<Shape> named_shapes() {
  return {{"fmnist_b128", {784, 256, 128, 10}, 128},
          {"fmnist_b1024", {784, 256, 128, 10}, 1024},
          {"wide_1024", {1024, 1024, 1024, 10}, 512},
          {"tiny", {2, 4, 1}, 4}};
}
std::vector<Shape> width_sweep() {
  std::vector<Shape> r;
  for (std::size_t w = 16; w <= 4096; w *= 2) r.push_back({"width", {w, w, w, 10}, 256});
  return r;
}
std::vector<Shape> batch_sweep() {
  std::vector<Shape> r;
  for (std::size_t m = 1; m <= 4096; m *= 4) r.push_back({"batch", {784, 256, 128, 10}, m});
  return r;
}

const char* name(Op op) {
  switch (op) {
    case Op::forward: return "forward";
    case Op::backward: return "backward";
    case Op::step: return "step";
  }
  return "?";
}

double flops(const Shape& s, Op op) {
  double S = 0;
  for (std::size_t l = 1; l < s.sizes.size(); ++l) S += double(s.sizes[l]) * double(s.sizes[l - 1]);
  const double per = op == Op::forward ? 2 : op == Op::backward ? 4 : 6;
  return per * double(s.batch) * S;
}

void use_threads(BackendKind kind, int threads) {
  give_cores(kind, threads);
  set_openmp_threads(1);  // Armadillo's own elementwise loops stay serial
}

namespace {
template <class T> std::vector<Activation> relu_then_identity(const Shape& s) {
  std::vector<Activation> a(s.sizes.size() - 1, Activation::relu);
  a.back() = Activation::identity;
  return a;
}
// N(0,1) entries from std::mt19937_64 (not arma::randn: with OpenMP, Armadillo fills large
// matrices from one engine per thread, so its numbers depend on the thread count).
template <class T> arma::Mat<T> randn_mat(std::size_t r, std::size_t c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0.0, 1.0);
  arma::Mat<T> M(r, c);
  for (auto& x : M) x = T(N(rng));
  return M;
}
}  // namespace

template <class T> struct Bench<T>::Impl {
  Network<T> net;
  arma::Mat<T> X, Y;
  std::unique_ptr<Backend<T>> be;
  Cache<T> cache;
  Grads<T> grads;
  T lr = T(1e-3);  // plain SGD, taken in the pass (InPassSgd), as optim::Sgd trains
  BackendKind kind;
  int threads;
};

template <class T> Bench<T>::Bench(const Shape& s, BackendKind kind, int threads, std::uint64_t seed)
    : p_(std::make_unique<Impl>()) {
  p_->net = random_network<T>(s.sizes, relu_then_identity<T>(s), Loss::mse, seed);
  p_->X = randn_mat<T>(s.sizes.front(), s.batch, seed + 1);
  p_->Y = randn_mat<T>(s.sizes.back(), s.batch, seed + 2);
  p_->be = make_backend<T>(kind, threads);
  p_->kind = kind;
  p_->threads = threads;
  use_threads(kind, threads);
  step();  // sizes every workspace once
}
template <class T> Bench<T>::~Bench() = default;

template <class T> void Bench<T>::forward() { p_->be->forward(p_->net, p_->X, p_->cache); }
template <class T> void Bench<T>::backward() {
  p_->be->backward(p_->net, p_->X, p_->Y, p_->cache, p_->grads, /*want_dX=*/true);
}
template <class T> T Bench<T>::step() {
  const InPassSgd<T> sgd{&p_->net, p_->lr};
  return p_->be->value_and_grad(p_->net, p_->X, p_->Y, p_->cache, p_->grads, /*want_dX=*/true, &sgd);
}
template <class T> void Bench<T>::run(Op op) {
  switch (op) {
    case Op::forward: forward(); break;
    case Op::backward: backward(); break;
    case Op::step: step(); break;
  }
}

template <class T> struct GemmBench<T>::Impl {
  std::vector<arma::Mat<T>> W, A, dW, dA;  // A[0] = X; dA[l] has the shape of A[l]
  std::size_t L = 0;
};

template <class T> GemmBench<T>::GemmBench(const Shape& s, int threads, std::uint64_t seed) : p_(std::make_unique<Impl>()) {
  auto& q = *p_;
  q.L = s.sizes.size() - 1;
  for (std::size_t l = 0; l <= q.L; ++l) {
    q.A.push_back(randn_mat<T>(s.sizes[l], s.batch, seed + l));
    q.dA.push_back(randn_mat<T>(s.sizes[l], s.batch, seed + 100 + l));
  }
  for (std::size_t l = 1; l <= q.L; ++l) {
    q.W.push_back(randn_mat<T>(s.sizes[l], s.sizes[l - 1], seed + 200 + l));
    q.dW.push_back(arma::Mat<T>(s.sizes[l], s.sizes[l - 1]));
  }
  use_threads(BackendKind::matrix, threads);
}
template <class T> GemmBench<T>::~GemmBench() = default;

template <class T> void GemmBench<T>::forward() {
  auto& q = *p_;
  for (std::size_t l = 0; l < q.L; ++l) gemm<T>('N', 'N', T(1), q.W[l], q.A[l], T(0), q.A[l + 1]);
}
template <class T> void GemmBench<T>::backward() {
  auto& q = *p_;
  for (std::size_t l = q.L; l-- > 0;) {
    gemm<T>('N', 'T', T(1), q.dA[l + 1], q.A[l], T(0), q.dW[l]);
    gemm<T>('T', 'N', T(1), q.W[l], q.dA[l + 1], T(0), q.dA[l]);
  }
}
template <class T> void GemmBench<T>::run(Op op) {
  switch (op) {
    case Op::forward: forward(); break;
    case Op::backward: backward(); break;
    case Op::step: step(); break;
  }
}

template <class T> const arma::Mat<T>& GemmBench<T>::A(std::size_t l) const { return p_->A.at(l); }
template <class T> const arma::Mat<T>& GemmBench<T>::dA(std::size_t l) const { return p_->dA.at(l); }
template <class T> const arma::Mat<T>& GemmBench<T>::W(std::size_t l) const { return p_->W.at(l); }
template <class T> const arma::Mat<T>& GemmBench<T>::dW(std::size_t l) const { return p_->dW.at(l); }

std::string key(const Measurement& m, const std::string& backend) {
  return m.precision + "/" + m.op + "/" + backend + "/t" + std::to_string(m.threads) + "/" + m.shape;
}

std::string table_csv(const std::vector<Measurement>& all, const std::map<std::string, double>& peak,
                      const std::map<std::string, double>& torch) {
  std::map<std::string, double> sec;
  for (const auto& m : all) sec[key(m, m.backend)] = m.seconds;
  std::string out =
      "precision,op,backend,threads,shape,sweep,flops,seconds,gflops,frac_gemm,frac_peak,torch_seconds,"
      "speedup_vs_torch,cpu_per_wall\n";
  for (const auto& m : all) {
    const double gf = m.flops / m.seconds * 1e-9;
    const auto g = sec.find(key(m, "gemm"));
    const auto p = peak.find(m.precision + "/t" + std::to_string(m.threads));
    const auto t = torch.find(key(m, "torch"));
    const double ts = t == torch.end() ? 0 : t->second;
    char line[512];
    std::snprintf(line, sizeof line, "%s,%s,%s,%d,%s,%s,%.6g,%.6g,%.4g,%.4g,%.4g,%.6g,%.4g,%.3g\n", m.precision.c_str(),
                  m.op.c_str(), m.backend.c_str(), m.threads, m.shape.c_str(), m.sweep.c_str(), m.flops, m.seconds,
                  gf, g == sec.end() ? 0.0 : g->second / m.seconds, p == peak.end() ? 0.0 : gf / p->second, ts,
                  ts > 0 ? ts / m.seconds : 0.0, m.cpu_per_wall);
    out += line;
  }
  return out;
}

double seconds_per_call(const std::function<void()>& f, double min_seconds) {
  using clock = std::chrono::steady_clock;
  f();
  long n = 1;
  for (;;) {
    const auto t0 = clock::now();
    for (long i = 0; i < n; ++i) f();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (s >= min_seconds || n > (1L << 30)) break;
    n = s > 0 ? std::max(2 * n, long(double(n) * min_seconds / s * 1.2)) : 2 * n;
  }
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = clock::now();
    for (long i = 0; i < n; ++i) f();
    best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count() / double(n));
  }
  return best;
}

Shape shape_from_label(const std::string& lab) {
  for (const auto& v : {named_shapes(), width_sweep(), batch_sweep()})
    for (const Shape& s : v)
      if (label(s) == lab) return s;
  throw std::invalid_argument("perf::shape_from_label: no shape " + lab);
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) throw std::invalid_argument("perf::quantile: no values");
  std::sort(v.begin(), v.end());
  const double h = q * double(v.size() - 1);
  const std::size_t i = std::size_t(std::floor(h));
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (h - double(i)) * (v[i + 1] - v[i]);
}

PairedRatio paired_ratio(const std::function<void()>& a, const std::function<void()>& b, double seconds,
                         double block_seconds, int min_rounds) {
  const auto loop = [](const std::function<void()>& f) {
    return [&f](long n) {
      const auto t0 = std::chrono::steady_clock::now();
      for (long i = 0; i < n; ++i) f();
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
  };
  return paired_ratio_timed(loop(a), loop(b), seconds, block_seconds, min_rounds);
}

PairedRatio paired_ratio_timed(const BlockTimer& a, const BlockTimer& b, double seconds, double block_seconds,
                               int min_rounds) {
  // Calibration: calls per block from the first block after the warm-up call (doubling while
  // a block is shorter than a tenth of block_seconds, so that a fast f is not counted off
  // one clock tick).
  const auto calls = [&](const BlockTimer& f) {
    f(1);
    long n = 1;
    double s = f(n);
    while (s < 0.1 * block_seconds && n < (1L << 30)) s = f(n *= 2);
    return std::max(1L, long(double(n) * block_seconds / std::max(s, 1e-9)));
  };
  PairedRatio r;
  const CpuTicks ticks0 = cpu_ticks();
  r.a_calls = calls(a);
  r.b_calls = calls(b);
  std::vector<double> ratio, sa, sb;
  double spent = 0;
  for (int k = 0; k < min_rounds || spent < seconds; ++k) {
    double ta, tb;
    if (k % 2 == 0) {
      ta = a(r.a_calls);
      tb = b(r.b_calls);
    } else {
      tb = b(r.b_calls);
      ta = a(r.a_calls);
    }
    spent += ta + tb;
    sa.push_back(ta / double(r.a_calls));
    sb.push_back(tb / double(r.b_calls));
    ratio.push_back(sa.back() / sb.back());
    if (k + 1 >= min_rounds && spent + (ta + tb) > seconds) break;  // the next round would overrun
  }
  r.rounds = int(ratio.size());
  r.median = quantile(ratio, 0.5);
  r.q1 = quantile(ratio, 0.25);
  r.q3 = quantile(ratio, 0.75);
  r.a_seconds = quantile(sa, 0.5);
  r.b_seconds = quantile(sb, 0.5);
  r.steal = steal_fraction(ticks0, cpu_ticks());
  return r;
}

double core_round_trip_ns(long trips) {
  cpu_set_t mine;
  if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) != 0) return std::numeric_limits<double>::quiet_NaN();
  int cpu[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &mine)) cpu[found++] = c;
  if (found < 2 || trips < 1) return std::numeric_limits<double>::quiet_NaN();
  park_blas_threads();  // OpenBLAS's workers spin for ~65 ms after a threaded call: 2 us "round trips"
  const auto pin = [](int c) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  };
  // Trip i: the caller writes 2i - 1 into line i mod 32, the other thread waits for it and
  // writes 2i.  32 lines, not one: on a mesh of L3 slices a line's round trip depends on its
  // address (one line measured 50 ns, the mean over 32 lines 105 ns, on this host at the same
  // moment), and a training step moves hundreds of lines.
  struct alignas(64) Line { std::atomic<long> v{0}; };
  constexpr std::size_t kLines = 32;
  std::vector<Line> lines(kLines);
  Line ready;  // the clock starts once the other thread runs, pinned: its start-up (~0.1-3 ms) is not a round trip
  std::thread other([&] {
    pin(cpu[1]);
    ready.v.store(1, std::memory_order_release);
    for (long i = 1; i <= trips; ++i) {
      auto& v = lines[std::size_t(i) % kLines].v;
      while (v.load(std::memory_order_acquire) != 2 * i - 1) {}
      v.store(2 * i, std::memory_order_release);
    }
  });
  pin(cpu[0]);
  while (ready.v.load(std::memory_order_acquire) != 1) {}
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 1; i <= trips; ++i) {
    auto& v = lines[std::size_t(i) % kLines].v;
    v.store(2 * i - 1, std::memory_order_release);
    while (v.load(std::memory_order_acquire) != 2 * i) {}
  }
  const auto t1 = std::chrono::steady_clock::now();
  other.join();
  pthread_setaffinity_np(pthread_self(), sizeof mine, &mine);
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(trips);
}

CpuTicks parse_cpu_ticks(std::string_view proc_stat) {
  CpuTicks t;
  const std::string line(proc_stat.substr(0, proc_stat.find('\n')));
  std::istringstream in(line);
  std::string name;
  if (!(in >> name) || name != "cpu") return t;
  // user nice system idle iowait irq softirq steal [guest guest_nice: already in user, nice]
  for (int i = 0; i < 8; ++i) {
    double v = 0;
    if (!(in >> v)) break;
    t.total += v;
    if (i == 7) t.steal = v;
  }
  return t;
}

CpuTicks cpu_ticks() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  return parse_cpu_ticks(line);
}

double steal_fraction(const CpuTicks& before, const CpuTicks& after, double min_ticks) {
  const double dt = after.total - before.total;
  if (!(dt >= min_ticks) || dt <= 0) return std::numeric_limits<double>::quiet_NaN();
  return std::max(0.0, after.steal - before.steal) / dt;
}

template <class B> double steps_then_park(B& b, long n) {
  b.step();
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) b.step();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  park_blas_threads();
  return s;
}

template <class T>
PairedRatio thread_scaling(const Shape& s, BackendKind kind, double seconds, double block_seconds, int min_rounds) {
  Bench<T> b1(s, kind, 1), b2(s, kind, 2);
  PairedRatio r;
  if (kind == BackendKind::matrix) {
    // Each block sets OpenBLAS's count; steps_then_park makes its warm-up step (on 2 threads it
    // restarts the pool) and parks the pool after it, so that no worker spins beside the next
    // 1-thread block.
    r = paired_ratio_timed([&](long n) { set_blas_threads(1); return steps_then_park(b1, n); },
                           [&](long n) { set_blas_threads(2); return steps_then_park(b2, n); }, seconds,
                           block_seconds, min_rounds);
  } else
    r = paired_ratio([&] { b1.step(); }, [&] { b2.step(); }, seconds, block_seconds, min_rounds);
  use_threads(kind, 2);
  return r;
}

std::pair<Shape, Shape> split_halves(const Shape& s) {
  if (s.batch < 2) throw std::invalid_argument("perf::split_halves: " + label(s) + ": a batch of at least 2 is needed");
  Shape a = s, b = s;
  a.batch = s.batch / 2;
  b.batch = s.batch - a.batch;
  return {a, b};
}

template <class T> PairedRatio split_scaling(const Shape& s, double seconds, double block_seconds, int min_rounds) {
  const auto [h0, h1] = split_halves(s);
  Bench<T> whole(s, BackendKind::openmp, 1), half0(h0, BackendKind::openmp, 1), half1(h1, BackendKind::openmp, 1);
  use_threads(BackendKind::openmp, 2);
  const auto halves = [&] {
#if defined(NNLAB_HAVE_OPENMP)
#pragma omp parallel num_threads(2)
    {
      if (omp_get_thread_num() == 0) half0.step();
      else half1.step();
    }
#else
    half0.step();
    half1.step();
#endif
  };
  return paired_ratio([&] { whole.step(); }, halves, seconds, block_seconds, min_rounds);
}

std::string scaling_csv(const std::vector<Scaling>& rows) {
  std::string out = "precision,backend,shape,sweep,median,q1,q3,rounds,steal,split,split_q1,split_q3,round_trip_ns\n";
  for (const auto& x : rows) {
    const PairedRatio& c = x.split;
    char line[320];
    std::snprintf(line, sizeof line, "%s,%s,%s,%s,%.4g,%.4g,%.4g,%d,%.4f,%.4g,%.4g,%.4g,%.4g\n", x.precision.c_str(),
                  x.backend.c_str(), x.shape.c_str(), x.sweep.c_str(), x.r.median, x.r.q1, x.r.q3, x.r.rounds,
                  x.r.steal, c.rounds ? c.median : 0.0, c.rounds ? c.q1 : 0.0, c.rounds ? c.q3 : 0.0,
                  std::isfinite(x.round_trip_ns) ? x.round_trip_ns : 0.0);
    out += line;
  }
  return out;
}

template PairedRatio thread_scaling<float>(const Shape&, BackendKind, double, double, int);
template PairedRatio thread_scaling<double>(const Shape&, BackendKind, double, double, int);
template PairedRatio split_scaling<float>(const Shape&, double, double, int);
template PairedRatio split_scaling<double>(const Shape&, double, double, int);
template double steps_then_park(Bench<float>&, long);
template double steps_then_park(Bench<double>&, long);
template double steps_then_park(GemmBench<float>&, long);
template double steps_then_park(GemmBench<double>&, long);
template class Bench<float>;
template class Bench<double>;
template class GemmBench<float>;
template class GemmBench<double>;

}  // namespace nnlab::perf
