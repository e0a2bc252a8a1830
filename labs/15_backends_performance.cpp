// Lab 15 -- The same equations at very different speeds.  One training step (forward + cost +
// backward with dX + SGD) of each backend, timed on this machine against the OpenBLAS dgemm
// doing the same products and against the measured FMA peak: the four shapes of the course,
// a width sweep (w-w-w-10, batch 256) and a batch sweep (784-256-128-10), at 1 and 2 threads.
// A quick version (about 30 s) of experiments/bench_backends (scripts/bench.sh), whose
// numbers are those of experiments/README.md.  Timings are printed and plotted, never checked:
// what the lab checks are the things a speed-up must not change.
// --quick (what ctest runs): the same checks, and timings of the steps under 0.25 GFLOP only
// (3e7 for naive and graph), with shorter batches: about 5 s in a release build, and still
// well under a minute in the Debug + sanitizer build of the dev preset.  The test suite
// shares the cores with other tests, so its timings mean little and must not make it slow.
// Writes results/15_backends_performance/{backends,peak,scaling}.csv and backends.png.
#include "nnlab/backends/openmp.hpp"
#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/io.hpp"
#include "common/sheet.hpp"
#include "perf/perf.hpp"
#include "common/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

using namespace nnlab;
using namespace nnlab::perf;

namespace {
double min_time = 0.02;  // seconds per timed batch (perf::seconds_per_call); --quick: 0.002

Measurement measure(const Shape& s, const std::string& backend, int threads, const char* sweep) {
  double sec;
  if (backend == "gemm") {
    GemmBench<double> g(s, threads);
    sec = seconds_per_call([&] { g.step(); }, min_time);
  } else {
    Bench<double> b(s, *backend_from_name(backend), threads);
    sec = seconds_per_call([&] { b.step(); }, min_time);
  }
  return {"double", "step", backend, threads, label(s), sweep, flops(s, Op::step), sec};
}
}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (quick) min_time = 0.002;
  // The largest steps timed (flops): compiled backends, and naive/graph (about 1 GFLOP/s).
  const double cap = quick ? 2.5e8 : 1e30, serial_named = quick ? 3e7 : 1e9, serial_sweep = quick ? 3e7 : 3e8;
  lab::Sheet s("15_backends_performance", "Backends and performance: the same step at different speeds");

  s.section("1. The machine and who owns its cores");
  s.show("BLAS", describe(blas_info()));
  s.say("The matrix backend's products run in OpenBLAS, whose pthread pool takes the cores;\n"
        "the openmp backend's loops run in OpenMP's pool and call no BLAS.  Two busy pools on two\n"
        "cores oversubscribe them (1.5-3x slower), so perf::use_threads gives the cores to one pool\n"
        "and sets the other to 1 thread.  OMP_NUM_THREADS is not read by nnlab's backends: the\n"
        "openmp backend takes its thread count from make_backend(kind, threads) (--threads).");
  std::map<std::string, double> peak;
  for (int t : {1, 2}) peak["double/t" + std::to_string(t)] = fma_peak<double>(t);
  s.show("measured double FMA peak, 1 thread (GFLOP/s)", peak["double/t1"]);
  s.show("measured double FMA peak, 2 threads (GFLOP/s)", peak["double/t2"]);

  s.section("2. What a speed-up must not change");
  {
    const Shape sh{"check", {37, 70, 33, 10}, 67};
    Bench<double> one(sh, BackendKind::openmp, 1), two(sh, BackendKind::openmp, 2), three(sh, BackendKind::openmp, 3);
    Bench<double> ref(sh, BackendKind::naive, 1), mat(sh, BackendKind::matrix, 2);
    bool same_bits = true;
    double worst = 0;
    for (int i = 0; i < 4; ++i) {
      const double j1 = one.step(), j2 = two.step(), j3 = three.step(), jr = ref.step(), jm = mat.step();
      same_bits = same_bits && j1 == j2 && j1 == j3;
      worst = std::max({worst, std::abs(j1 - jr) / std::abs(jr), std::abs(jm - jr) / std::abs(jr)});
    }
    s.check("openmp: 4 training steps give the same bits on 1, 2 and 3 threads", same_bits);
    s.show("largest relative difference of the costs from the naive backend's, over 4 steps", worst);
    s.check("matrix and openmp follow the naive backend's training to 1e-12", worst < 1e-12);

    // The openmp backend's two schedules: the threads share the tiles of each product, or each
    // thread carries its own chunks of samples through all the layers.  Same sums, same bits.
    const auto net = random_network<double>(sh.sizes, {Activation::relu, Activation::tanh, Activation::identity},
                                            Loss::mse, 5);
    arma::mat X(sh.sizes.front(), sh.batch), Y(sh.sizes.back(), sh.batch);
    for (arma::uword i = 0; i < X.n_elem; ++i) X[i] = std::sin(0.7 * double(i));
    for (arma::uword i = 0; i < Y.n_elem; ++i) Y[i] = std::cos(0.3 * double(i));
    bool schedules_agree = true;
    Cache<double> c0;
    Grads<double> g0;
    const double J0 = make_openmp_backend<double>(1, OpenmpSchedule::tiles)->value_and_grad(net, X, Y, c0, g0, true);
    for (int t : {1, 2, 3}) {
      Cache<double> c;
      Grads<double> g;
      const double J = make_openmp_backend<double>(t, OpenmpSchedule::samples)->value_and_grad(net, X, Y, c, g, true);
      schedules_agree = schedules_agree && J == J0 && arma::approx_equal(g.dX, g0.dX, "absdiff", 0.0);
      for (std::size_t l = 0; l < g.dW.size(); ++l)
        schedules_agree = schedules_agree && arma::approx_equal(g.dW[l], g0.dW[l], "absdiff", 0.0) &&
                          arma::approx_equal(g.db[l], g0.db[l], "absdiff", 0.0);
    }
    s.check("openmp: the samples schedule (1, 2, 3 threads) gives the tiles schedule's bits", schedules_agree);
  }
  s.check("the flop count of a step: 6 m S (2-4-1, m = 4: 6 * 4 * 12 = 288)", flops({"", {2, 4, 1}, 4}, Op::step) == 288);

  s.section("3. The four shapes (double, one step; frac = fraction of the same products in dgemm)");
  std::vector<Measurement> all;
  std::printf("  %-24s %-7s %2s %12s %9s %9s %9s\n", "shape", "backend", "t", "ms/step", "GFLOP/s", "frac_gemm", "frac_peak");
  for (const Shape& sh : named_shapes()) {
    std::vector<Measurement> rows;
    if (flops(sh, Op::step) >= cap) continue;
    for (int t : {1, 2})
      for (const char* be : {"gemm", "matrix", "openmp"}) rows.push_back(measure(sh, be, t, "named"));
    for (const char* be : {"naive", "graph"})
      if (flops(sh, Op::step) < serial_named) rows.push_back(measure(sh, be, 1, "named"));
    for (const auto& r : rows) {
      const double gemm = [&] {
        for (const auto& q : rows) if (q.backend == "gemm" && q.threads == r.threads) return q.seconds;
        return 0.0;
      }();
      const double gf = r.flops / r.seconds * 1e-9;
      std::printf("  %-24s %-7s %2d %12.4f %9.2f %9.3f %9.3f\n", r.shape.c_str(), r.backend.c_str(), r.threads,
                  r.seconds * 1e3, gf, gemm / r.seconds, gf / peak["double/t" + std::to_string(r.threads)]);
      all.push_back(r);
    }
  }
  s.say("(naive and graph are left out of the steps over 1 GFLOP here -- the naive loops would take\n"
        "over 10 s on the 1024-wide one; the benchmark measures both.)");

  s.section("4. Width sweep w-w-w-10, batch 256, and batch sweep 784-256-128-10 (double step)");
  if (quick) s.say("(--quick: steps under 0.25 GFLOP only, short timing batches.)");
  for (const Shape& sh : width_sweep()) {
    if (sh.sizes[1] > 1024u || flops(sh, Op::step) >= cap) break;  // the benchmark goes to 4096
    for (int t : {1, 2})
      for (const char* be : {"gemm", "matrix", "openmp"}) all.push_back(measure(sh, be, t, "width"));
    for (const char* be : {"naive", "graph"})
      if (flops(sh, Op::step) < serial_sweep) all.push_back(measure(sh, be, 1, "width"));
  }
  for (const Shape& sh : batch_sweep()) {
    if (flops(sh, Op::step) >= cap) break;
    for (int t : {1, 2})
      for (const char* be : {"gemm", "matrix", "openmp"}) all.push_back(measure(sh, be, t, "batch"));
    for (const char* be : {"naive", "graph"})
      if (flops(sh, Op::step) < serial_sweep) all.push_back(measure(sh, be, 1, "batch"));
  }
  std::printf("  %-24s %9s %9s %9s %9s %9s %9s\n", "shape", "naive", "graph", "openmp1", "openmp2", "matrix2", "gemm2");
  std::map<std::string, std::map<std::string, double>> gf;  // shape -> backend/t -> GFLOP/s
  for (const auto& m : all) gf[m.shape][m.backend + std::to_string(m.threads)] = m.flops / m.seconds * 1e-9;
  double omp_lo = 1e300, omp_hi = 0;  // openmp's share of dgemm's rate, 2 threads, over the sweeps
  for (const auto& m : all) {
    if (m.sweep == "named" || m.backend != "gemm" || m.threads != 2) continue;
    auto& g = gf[m.shape];
    std::printf("  %-24s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", m.shape.c_str(), g["naive1"], g["graph1"],
                g["openmp1"], g["openmp2"], g["matrix2"], g["gemm2"]);
    omp_lo = std::min(omp_lo, g["openmp2"] / g["gemm2"]);
    omp_hi = std::max(omp_hi, g["openmp2"] / g["gemm2"]);
  }
  s.say("(GFLOP/s; 0 = not measured.)  The naive loops stay near 1 GFLOP/s whatever the size; the\n"
        "graph engine pays for a node per operation; matrix follows dgemm once the layers are a\n"
        "few hundred wide.  openmp's tiled loops, with no BLAS, against dgemm on 2 threads:");
  s.show("openmp2 / gemm2, lowest over the sweeps", omp_lo);
  s.show("openmp2 / gemm2, highest over the sweeps", omp_hi);

  s.section("5. Thread scaling (time on 1 thread / time on 2)");
  s.say("Each backend's step on 1 and on 2 threads, timed in alternating blocks (perf::thread_scaling,\n"
        "perf::paired_ratio): the median of the rounds and its quartiles.  A slow moment of the\n"
        "machine hits both blocks of a round, where two separate timings would each catch their\n"
        "own luck.  matrix: OpenBLAS's thread count is switched before every call.  steal: the share\n"
        "of the CPU time the hypervisor gave to another guest meanwhile (/proc/stat); a stolen\n"
        "vCPU stalls every barrier of a 2-thread step, so a ratio measured under steal is low (\"-\":\n"
        "the row's rounds were too short to tell; the whole section's share is printed below).\n"
        "split: the same paired rounds for the openmp step on 1 thread against two 1-thread steps\n"
        "side by side, each on half the batch with its own copy of the network (perf::split_scaling):\n"
        "the same samples per thread, nothing shared.  For the narrow networks, where openmp splits\n"
        "the batch between its threads, that is the most any data-parallel step could gain on these\n"
        "two vCPUs at that moment: from openmp up to split is what sharing the weights costs, from\n"
        "split up to 2 is the host's.  Wide layers split the weights' rows instead, and there the two\n"
        "copies each stream all the weights: split is no bound for them.  (Measured at batch >= 64.)\n"
        "rt: where the hypervisor put the two vCPUs, the larger of two readings of a cache line's round\n"
        "trip between them (perf::core_round_trip_ns, before and after the row; mean over 32 lines).\n"
        "Steal does not show it: when the vCPUs sit far apart (round trips of several hundred ns\n"
        "against about 100 near), a narrow network's 2-thread step, which moves hundreds of lines\n"
        "per step, loses much or all of its gain.");
  std::printf("  %-24s %9s %15s %9s %9s %15s %7s %7s\n", "shape", "openmp", "(quartiles)", "split", "matrix",
              "(quartiles)", "steal", "rt ns");
  std::vector<Scaling> scaling;
  std::set<std::string> done;  // a named shape reappears in the batch sweep
  const CpuTicks ticks0 = cpu_ticks();
  for (const auto& m : all) {
    if (m.backend != "gemm" || m.threads != 2 || !done.insert(m.shape).second) continue;
    const Shape sh = shape_from_label(m.shape);
    const double rt0 = core_round_trip_ns(quick ? 2000 : 20000);
    for (const char* be : {"openmp", "matrix"})
      scaling.push_back({"double", be, m.shape, m.sweep,
                         thread_scaling<double>(sh, *backend_from_name(be), quick ? 0.0 : 0.3, quick ? 0.001 : 0.01,
                                                quick ? 3 : 7)});
    Scaling& os = scaling[scaling.size() - 2];
    if (sh.batch >= 64) os.split = split_scaling<double>(sh, quick ? 0.0 : 0.3, quick ? 0.001 : 0.01, quick ? 3 : 7);
    os.round_trip_ns = scaling.back().round_trip_ns = std::max(rt0, core_round_trip_ns(quick ? 2000 : 20000));
    const PairedRatio &o = os.r, &x = scaling.back().r, &c = os.split;
    const double steal = std::max({o.steal, x.steal, c.rounds ? c.steal : 0.0});  // NaN ("-"): too short to tell
    char st[16] = "      -", sp[16] = "        -";
    if (std::isfinite(steal)) std::snprintf(st, sizeof st, "%6.1f%%", 100 * steal);
    if (c.rounds) std::snprintf(sp, sizeof sp, "%9.2f", c.median);
    std::printf("  %-24s %9.2f   [%5.2f-%5.2f] %s %9.2f   [%5.2f-%5.2f] %s %7.0f\n", m.shape.c_str(), o.median, o.q1,
                o.q3, sp, x.median, x.q1, x.q3, st, os.round_trip_ns);
  }
  const double section_steal = steal_fraction(ticks0, cpu_ticks());
  if (std::isfinite(section_steal)) s.show("CPU time stolen by the hypervisor over this section (%)", 100 * section_steal);
  s.say("Small layers do not scale: a 2-4-1 step is a few hundred nanoseconds, less than waking a\n"
        "second thread.  Large ones approach 2x.  The narrow networks (16 to 128 wide) run the\n"
        "openmp backend's samples schedule: each thread carries its own chunks of 64 samples\n"
        "through every layer and the threads meet once per pass, not after every product.  These\n"
        "are one quick run on a shared machine: scripts/bench.sh repeats every case, keeps the best,\n"
        "and measures these ratios the same way with longer rounds (its scaling.csv).");

  const std::string dir = plot::results_dir(s.id());
  write_file(dir + "/backends.csv", table_csv(all, peak));
  s.wrote(dir + "/backends.csv");
  write_file(dir + "/scaling.csv", scaling_csv(scaling));
  s.wrote(dir + "/scaling.csv");
  std::string pk = "precision,threads,gflops\n";
  for (const auto& [k, v] : peak) pk += "double," + k.substr(k.find('/') + 2) + "," + lab::fmt(v) + "\n";
  write_file(dir + "/peak.csv", pk);
  s.wrote(dir + "/peak.csv");
  s.wrote(plot::render(s.id(), "backends"));
  return s.finish();
}
