// The backend benchmark (Google Benchmark): forward, backward and a training step (forward + cost +
// backward + SGD update) for every backend, float and double, on the four named shapes, a
// width sweep (w-w-w-10, batch 256, w = 16..4096) and a batch sweep (784-256-128-10, batch
// 1..4096), at 1 and 2 threads; plus "gemm", the same products straight to OpenBLAS on
// preallocated buffers (the yardstick), and the measured FMA peak.
//
//   bench_backends [--torch a.csv[,b.csv]] [--torch-serve "python3 bench_torch.py"] [--out results/bench]
//                  [google-benchmark flags]
//
// Names: <precision>/<op>/<backend>/t<threads>/<sizes>/b<batch>.  Counter GFLOP/s counts
// 6 m S flops for a step (S = sum of the weight-matrix sizes; dX is computed, so the count is
// exact), 2 m S forward, 4 m S backward.  The naive and graph backends are single-threaded
// (t1 only) and skipped on sweep points that would take more than ~1 s per call.
//
// After the run it writes, from the best of the repetitions of each case:
//   backends.csv   one row per case: seconds, GFLOP/s, fraction of gemm (same shape, threads,
//                  precision, op, same run), fraction of the measured peak, the PyTorch
//                  time and the speed-up over it where --torch gives one, and process CPU
//                  time / wall time (how many cores the case really used)
//   peak.csv       measured FMA peak, float and double, 1 and 2 threads
//   scaling.csv    the openmp and matrix double steps' thread scaling (time on 1 thread / on 2)
//                  by paired rounds, median and quartiles, every shape (perf::thread_scaling),
//                  and the share of CPU time the hypervisor stole meanwhile; for the openmp
//                  targets (batch >= 64) also "split" (perf::split_scaling: two 1-thread
//                  halves of the batch side by side, nothing shared)
//                  (targets.txt gives it for the run and for each paired ratio)
//   targets.txt    the benchmark's targets (experiments/README.md), each with its measured ratio and PASS or MISS; the
//                  ratios by paired rounds (perf::paired_ratio_timed), the best-of ratio beside
//                  each.  With --torch-serve (a command that runs bench_torch.py), matrix vs
//                  PyTorch is paired too: two PyTorch processes (default and
//                  OMP_WAIT_POLICY=PASSIVE) time their step in blocks between nnlab's.
#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/io.hpp"
#include "perf/perf.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

using namespace nnlab;
using namespace nnlab::perf;

namespace {

std::map<std::string, Measurement> g_cases;  // by benchmark name = key(m, m.backend)

template <class T> void run_backend(benchmark::State& st, Shape s, BackendKind k, int threads, Op op) {
  Bench<T> b(s, k, threads);
  for (auto _ : st) b.run(op);
  st.counters["GFLOP/s"] = benchmark::Counter(flops(s, op) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
template <class T> void run_gemm(benchmark::State& st, Shape s, int threads, Op op) {
  GemmBench<T> g(s, threads);
  for (auto _ : st) g.run(op);
  st.counters["GFLOP/s"] = benchmark::Counter(flops(s, op) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class T> void register_all(const char* prec) {
  struct Group { const char* sweep; std::vector<Shape> shapes; };
  const Group groups[] = {{"named", named_shapes()}, {"width", width_sweep()}, {"batch", batch_sweep()}};
  for (const auto& g : groups)
    for (const Shape& s : g.shapes)
      for (Op op : {Op::forward, Op::backward, Op::step})
        for (const char* be : {"naive", "matrix", "openmp", "graph", "gemm"})
          for (int t : {1, 2}) {
            const std::string bes = be;
            const bool serial = bes == "naive" || bes == "graph";
            if (serial && t > 1) continue;
            // naive and graph run at about 1 GFLOP/s: skip sweep points above ~1 s per call.
            if (serial && std::string(g.sweep) != "named" && flops(s, op) > 1e9) continue;
            const Measurement c{prec, name(op), be, t, label(s), g.sweep, flops(s, op), 0};
            const std::string n = key(c, c.backend);
            if (g_cases.count(n)) continue;  // a named shape may reappear in a sweep
            g_cases[n] = c;
            benchmark::internal::Benchmark* b;
            if (bes == "gemm")
              b = benchmark::RegisterBenchmark(n.c_str(), [=](benchmark::State& st) { run_gemm<T>(st, s, t, op); });
            else
              b = benchmark::RegisterBenchmark(n.c_str(), [=](benchmark::State& st) {
                run_backend<T>(st, s, *backend_from_name(bes), t, op);
              });
            b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
          }
}

// Keeps the best (smallest) real time per case over its repetitions, in seconds.
class Collect : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> best, cpu_per_wall;
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred || r.iterations == 0) continue;
      const double s = r.real_accumulated_time / double(r.iterations);
      const std::string n = r.run_name.function_name;
      if (!best.count(n) || s < best[n]) {
        best[n] = s;
        cpu_per_wall[n] = r.cpu_accumulated_time / r.real_accumulated_time;  // process CPU time
      }
    }
  }
};

// torch.csv: precision,op,threads,shape,seconds (experiments/bench_torch.py).  Several files
// (comma-separated: PyTorch run under different thread settings) give the best time per case.
void read_torch_file(const std::string& path, std::map<std::string, double>& t) {
  if (path.empty() || !std::filesystem::exists(path)) return;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string prec, op, th, shape, sec;
    std::getline(ss, prec, ','); std::getline(ss, op, ','); std::getline(ss, th, ',');
    std::getline(ss, shape, ','); std::getline(ss, sec, ',');
    if (sec.empty()) continue;
    const std::string k = prec + "/" + op + "/torch/t" + th + "/" + shape;
    if (!t.count(k) || std::stod(sec) < t[k]) t[k] = std::stod(sec);
  }
}
// A PyTorch process that times blocks of training steps on request (bench_torch.py --serve):
// the PyTorch side of the paired comparison.  One line each way over two pipes; an extra
// environment variable (OMP_WAIT_POLICY=PASSIVE for the second server) goes to the child only.
class TorchServer {
 public:
  TorchServer(const std::vector<std::string>& argv, const std::string& env) {
    int to[2], from[2];
    if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("bench_backends: pipe failed");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("bench_backends: fork failed");
    if (pid_ == 0) {  // the child: stdin from `to`, stdout to `from`, then PyTorch
      ::dup2(to[0], 0);
      ::dup2(from[1], 1);
      for (int fd : {to[0], to[1], from[0], from[1]}) ::close(fd);
      if (!env.empty()) ::putenv(const_cast<char*>(env.c_str()));
      ::execvp(args[0], args.data());
      std::fprintf(stderr, "bench_backends: cannot run %s\n", args[0]);
      ::_exit(127);
    }
    ::close(to[0]);
    ::close(from[1]);
    in_ = to[1];
    out_ = ::fdopen(from[0], "r");
    if (!out_) throw std::runtime_error("bench_backends: fdopen failed");
  }
  TorchServer(const TorchServer&) = delete;
  TorchServer& operator=(const TorchServer&) = delete;
  ~TorchServer() {
    const std::string q = "quit\n";
    if (::write(in_, q.data(), q.size()) < 0) {}  // it may be gone already
    ::close(in_);
    if (out_) std::fclose(out_);
    ::waitpid(pid_, nullptr, 0);
  }
  // Sends one request, returns the reply line; throws if the server died or answered "error".
  std::string ask(const std::string& request) {
    const std::string line = request + "\n";
    char buf[512];
    if (::write(in_, line.data(), line.size()) != ssize_t(line.size()) || !std::fgets(buf, sizeof buf, out_))
      throw std::runtime_error("bench_backends: the PyTorch server stopped answering (request: " + request + ")");
    std::string r(buf);
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r')) r.pop_back();
    if (r.rfind("error", 0) == 0) throw std::runtime_error("bench_backends: PyTorch server: " + r);
    return r;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  std::FILE* out_ = nullptr;
};

std::map<std::string, double> read_torch(const std::string& paths) {
  std::map<std::string, double> t;
  std::stringstream ss(paths);
  for (std::string p; std::getline(ss, p, ',');) read_torch_file(p, t);
  return t;
}

// The bracket after a paired ratio in targets.txt: quartiles (times `scale`, for a ratio turned
// into a fraction), rounds, steal, and the best-of ratio of the run where there is one.  Above
// 5% steal it says the verdict is unreliable: the hypervisor then takes a vCPU for whole ticks,
// and whichever side's blocks it hits, a 2-thread ratio or a fraction of peak moves by an
// unknown amount (seen: 35-50% steal for minutes, a paired fraction of peak of 0.73 with
// quartiles 0.51-0.91).
std::string paired_note(const PairedRatio& p, double best_of, double scale = 1, const char* best_of_what = "best-of") {
  char b[200];
  std::snprintf(b, sizeof b, "[%.3f-%.3f, %d rounds, steal %.1f%%]", p.q1 * scale, p.q3 * scale, p.rounds,
                100 * p.steal);
  std::string n = b;
  if (best_of > 0) {
    std::snprintf(b, sizeof b, " (%s: %.3f)", best_of_what, best_of);
    n += b;
  }
  if (p.steal > 0.05) n += "  UNRELIABLE: steal above 5%";
  return n;
}

// nnlab's side of a paired round against another process or a kernel (perf::steps_then_park).
template <class B> BlockTimer blocks_of(B& b) {
  return [&b](long n) { return steps_then_park(b, n); };
}

// matrix vs PyTorch by paired rounds: blocks of PyTorch's step (each of its servers in turn,
// the faster one's time kept: PyTorch's best thread setting differs per shape) alternate with
// blocks of the matrix backend's step; ratio = PyTorch's time per step / nnlab's.  At least 9
// rounds and 5 s of timed steps a case: the 1024-wide step takes 0.1-0.16 s on one thread, and
// 3 s gave 8 rounds, too few to outvote a slow spell (0.84x in one run, 1.15x and 1.24x in the
// next two).
template <class T>
PairedRatio versus_torch(const Shape& s, const char* prec, int threads, std::vector<std::unique_ptr<TorchServer>>& servers) {
  for (auto& sv : servers) sv->ask(std::string("case ") + prec + " " + std::to_string(threads) + " " + label(s));
  Bench<T> mb(s, BackendKind::matrix, threads);
  const BlockTimer torch_block = [&](long n) {
    double best = 1e30;
    for (auto& sv : servers) best = std::min(best, std::stod(sv->ask("run " + std::to_string(n))));
    return best;
  };
  return paired_ratio_timed(torch_block, blocks_of(mb), 5.0, 0.05, 9);
}

}  // namespace

int main(int argc, char** argv) {
  use_fast_blas_kernels();  // may re-execute this program with OPENBLAS_CORETYPE set
  std::string torch_csv, torch_serve, out = "results/bench";
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--torch" && i + 1 < argc) torch_csv = argv[++i];
    else if (a == "--torch-serve" && i + 1 < argc) torch_serve = argv[++i];
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else args.push_back(argv[i]);
  }
  int ac = int(args.size());
  benchmark::Initialize(&ac, args.data());
  std::fprintf(stderr, "bench_backends: %s\n", describe(blas_info()).c_str());

  // The machine's measured FMA peak, 1 and 2 threads, in this run.
  std::map<std::string, double> peak;
  for (int t : {1, 2}) {
    peak["double/t" + std::to_string(t)] = fma_peak<double>(t);
    peak["float/t" + std::to_string(t)] = fma_peak<float>(t);
  }
  std::fprintf(stderr, "measured FMA peak GFLOP/s: double %.1f (1 thread) %.1f (2); float %.1f %.1f\n",
               peak["double/t1"], peak["double/t2"], peak["float/t1"], peak["float/t2"]);

  const std::map<std::string, double> peak_start = peak;
  register_all<double>("double");
  register_all<float>("float");
  Collect rep;
  const CpuTicks ticks_start = cpu_ticks();
  benchmark::RunSpecifiedBenchmarks(&rep);
  const CpuTicks ticks_end = cpu_ticks();
  benchmark::Shutdown();
  // Measured again at the end, the better of the two kept: on a shared host the second core
  // is sometimes taken for a second or so (a 2-thread "peak" of 64-85 GFLOP/s was measured here
  // between runs of 168-172), and a peak measured in such a moment would flatter every fraction.
  // (One such taker was in this process: OpenBLAS's worker, spinning for ~0.1 s after the library
  // loads; fma_peak parks it first. lib/README.md, "Threads".)
  std::map<std::string, double> peak_end;
  for (int t : {1, 2}) {
    const std::string d = "double/t" + std::to_string(t), f = "float/t" + std::to_string(t);
    peak_end[d] = fma_peak<double>(t);
    peak_end[f] = fma_peak<float>(t);
    peak[d] = std::max(peak[d], peak_end[d]);
    peak[f] = std::max(peak[f], peak_end[f]);
  }
  std::fprintf(stderr, "measured FMA peak GFLOP/s, best of the start and the end of the run: double %.1f (1 thread) "
               "%.1f (2); float %.1f %.1f\n", peak["double/t1"], peak["double/t2"], peak["float/t1"], peak["float/t2"]);

  const auto torch = read_torch(torch_csv);
  std::vector<Measurement> all;
  for (const auto& [n, sec] : rep.best) {
    all.push_back(g_cases.at(n));
    all.back().seconds = sec;
    all.back().cpu_per_wall = rep.cpu_per_wall.at(n);
  }
  std::filesystem::create_directories(out);
  write_file(out + "/backends.csv", table_csv(all, peak, torch));
  std::ostringstream pk;
  pk << "precision,threads,gflops\n";
  for (const auto& [k, v] : peak) pk << k.substr(0, k.find('/')) << "," << k.substr(k.find('/') + 2) << "," << v << "\n";
  write_file(out + "/peak.csv", pk.str());

  // The targets (experiments/README.md), from this run.
  auto sec = [&](const std::string& n) { return rep.best.count(n) ? rep.best.at(n) : 0.0; };
  std::ostringstream tg;
  // The host, and whether its second core was there: an FMA loop has no shared data, so two
  // threads make twice the rate of one unless the hypervisor gave the second vCPU to someone
  // else; then every 2-thread ratio of the run is low by an unknown amount.
  tg << "# " << describe(blas_info()) << "\n";
  char hdr[256];
  std::snprintf(hdr, sizeof hdr, "# FMA peak, double, GFLOP/s: start of the run %.1f (1 thread) %.1f (2), end %.1f %.1f\n",
                peak_start.at("double/t1"), peak_start.at("double/t2"), peak_end.at("double/t1"),
                peak_end.at("double/t2"));
  tg << hdr;
  // Steal: CPU time the hypervisor gave to someone else while this guest's vCPUs wanted it.
  std::snprintf(hdr, sizeof hdr, "# host steal (/proc/stat) during the timed cases: %.1f%% of the CPU time\n",
                100 * steal_fraction(ticks_start, ticks_end));
  tg << hdr;
  const auto second_core = [&](const char* when, const std::map<std::string, double>& pk) {
    const double r = pk.at("double/t2") / pk.at("double/t1");
    if (r >= 1.8) return;
    std::snprintf(hdr, sizeof hdr, "# NOTE: at the %s of the run 2 threads made only %.2fx the FMA rate of 1: the second "
                  "core was not fully available, 2-thread ratios are low by an unknown amount\n", when, r);
    tg << hdr;
  };
  second_core("start", peak_start);
  second_core("end", peak_end);
  // The yardstick's own check: no code can beat the FMA peak, so a gemm case above it means the
  // peak loop did not reach this machine's (see experiments/perf/perf_peak.cpp).
  double over = 0;
  std::string over_case;
  for (const auto& [n, c] : g_cases) {
    const auto pk = peak.find(c.precision + "/t" + std::to_string(c.threads));
    if (c.backend != "gemm" || !rep.best.count(n) || pk == peak.end()) continue;
    const double f = c.flops / rep.best.at(n) * 1e-9 / pk->second;
    if (f > over) over = f, over_case = n;
  }
  if (over > 1) {
    std::snprintf(hdr, sizeof hdr, "# NOTE: %s ran at %.2f of the measured peak: the peak is underestimated, every "
                  "fraction of peak below is too high\n", over_case.c_str(), over);
    tg << hdr;
  }
  auto target = [&](const std::string& what, double value, double need, const char* unit,
                    const std::string& note = "") {
    if (value <= 0) return;  // not measured in this run (filtered out)
    char line[768];
    const bool ok = value >= need;
    std::snprintf(line, sizeof line, "%-4s %-78s %8.3f%s (need >= %.3g%s)%s%s\n", ok ? "PASS" : "MISS",
                  what.c_str(), value, unit, need, unit, note.empty() ? "" : "  ", note.c_str());
    tg << line;
  };
  // The ratio targets between two cases of this program (2 threads vs 1, matrix vs gemm, float
  // vs double) are judged by a paired re-measurement (perf::paired_ratio): the two cases
  // alternate in blocks of ~20 ms, at least 7 rounds, and the verdict is the median of the
  // per-round ratios.  The ratio of the two best-of-3 times above is printed next to it: on a
  // shared host each best is taken in whatever moment was luckiest for it, and the two can
  // be seconds apart (experiments/README.md).
  tg << "# ratio targets: median of paired rounds [quartiles] (best-of-3 times of the run above)\n";
  const auto paired = [&](const std::string& what, const std::function<void()>& a, const std::function<void()>& b,
                          double best_of, double need, const char* unit) {
    if (best_of <= 0) return;  // not measured in this run (filtered out)
    std::fprintf(stderr, "bench_backends: paired re-measurement: %s ...\n", what.c_str());
    const PairedRatio p = paired_ratio(a, b, 2.0, 0.02, 7);
    target(what, p.median, need, unit, paired_note(p, best_of));
  };
  const std::string wide = "1024-1024-1024-10/b512";
  const double m2 = sec("double/step/matrix/t2/" + wide), g2 = sec("double/step/gemm/t2/" + wide);
  if (m2 > 0) {
    GemmBench<double> g(shape_from_label(wide), 2);
    Bench<double> mb(shape_from_label(wide), BackendKind::matrix, 2);
    paired("matrix double 2 threads " + wide + " step: fraction of gemm", [&] { g.step(); }, [&] { mb.step(); },
           g2 / m2, 0.9, "");
  }
  // The fraction of the peak, paired too: blocks of the FMA loop (perf::fma_block) alternate with
  // blocks of the step, so that both rates come from the same seconds of a host whose speed
  // drifts over a run.
  // Per round: (step flops / step time) / (FMA flops / FMA time).
  if (m2 > 0) {
    const Shape ws = shape_from_label(wide);
    Bench<double> mb(ws, BackendKind::matrix, 2);
    const PairedRatio p = paired_ratio_timed([](long n) { return fma_block<double>(2, n); }, blocks_of(mb),
                                             3.0, 0.05, 7);
    const double per = flops(ws, Op::step) / fma_call_flops<double>(2);
    target("matrix double 2 threads " + wide + " step: fraction of double peak (paired with the FMA loop)",
           p.median * per, 0.65, "",
           paired_note(p, flops(ws, Op::step) / m2 * 1e-9 / peak["double/t2"], per, "best-of against the run's peak"));
    // The ceiling of that fraction: OpenBLAS's dgemm on the same products, paired the same way.
    GemmBench<double> g(ws, 2);
    const PairedRatio q = paired_ratio_timed([](long n) { return fma_block<double>(2, n); }, blocks_of(g),
                                             3.0, 0.05, 7);
    char note[200];
    std::snprintf(note, sizeof note, "# for reference: gemm (the same products straight to OpenBLAS), 2 threads, "
                  "paired with the FMA loop: %.3f of the peak [%.3f-%.3f, %d rounds]\n",
                  q.median * per, q.q1 * per, q.q3 * per, q.rounds);
    tg << note;
  }
  // matrix vs PyTorch: with --torch-serve, paired rounds against PyTorch processes started here
  // (versus_torch); otherwise the best-of times of the two runs (PyTorch's from --torch).
  std::vector<std::unique_ptr<TorchServer>> servers;
  if (!torch_serve.empty()) {
    std::vector<std::string> cmd;
    std::istringstream words(torch_serve);
    for (std::string w; words >> w;) cmd.push_back(w);
    cmd.push_back("--serve");
    std::signal(SIGPIPE, SIG_IGN);  // a server that died is an error from write(), not the end of this program
    servers.push_back(std::make_unique<TorchServer>(cmd, ""));
    servers.push_back(std::make_unique<TorchServer>(cmd, "OMP_WAIT_POLICY=PASSIVE"));
  }
  for (const Shape& s : named_shapes())
    for (const char* p : {"double", "float"})
      for (int t : {1, 2}) {
        const std::string c = std::string(p) + "/step/matrix/t" + std::to_string(t) + "/" + label(s);
        const std::string tk = std::string(p) + "/step/torch/t" + std::to_string(t) + "/" + label(s);
        const std::string what =
            "matrix vs PyTorch, step, " + std::string(p) + ", " + std::to_string(t) + " thread(s), " + label(s);
        const double need = s.name == "tiny" ? 10 : 1;
        const double best_of = torch.count(tk) && sec(c) > 0 ? torch.at(tk) / sec(c) : 0;
        if (servers.empty() || sec(c) <= 0) {
          target(what, best_of, need, "x");
          continue;
        }
        std::fprintf(stderr, "bench_backends: paired re-measurement: %s ...\n", what.c_str());
        try {
          const PairedRatio r = std::string(p) == "double" ? versus_torch<double>(s, p, t, servers)
                                                           : versus_torch<float>(s, p, t, servers);
          target(what, r.median, need, "x", paired_note(r, best_of));
        } catch (const std::exception& e) {  // a server that cannot start or stopped: best-of from here on
          std::fprintf(stderr, "%s; --torch-serve \"%s\": the comparison with PyTorch falls back to best-of times\n",
                       e.what(), torch_serve.c_str());
          tg << "# NOTE: the PyTorch servers failed (" << e.what() << "): matrix vs PyTorch from best-of times\n";
          servers.clear();
          target(what, best_of, need, "x");
        }
      }
  servers.clear();
  // Thread scaling of the openmp and matrix double steps on every shape measured at 1 and 2
  // threads, by paired rounds (scaling.csv, the figure's third panel); the openmp ones at
  // batch >= 64 are targets.
  std::vector<Scaling> scaling;
  // Where the hypervisor put the two vCPUs (perf::core_round_trip_ns), read before and after
  // each measurement: near, a cache line crosses in ~100 ns (mean over 32 lines); far, in ~400,
  // and a narrow network's 2-thread step, which moves hundreds of lines per step, ran slower
  // than on one thread with steal at 0.  The nearest reading of the run is the reference.
  double nearest = core_round_trip_ns();
  for (int k = 0; k < 4; ++k) nearest = std::min(nearest, core_round_trip_ns());
  const auto placement = [&](double before, double after) {
    nearest = std::min({nearest, before, after});
    char b[200];
    std::snprintf(b, sizeof b, "  [vCPU round trip %.0f / %.0f ns before / after; nearest in this run %.0f]", before,
                  after, nearest);
    std::string n = b;
    if (std::max(before, after) > 2.5 * nearest) n += "  UNRELIABLE: the vCPUs were far apart";
    return n;
  };
  tg << "# vCPU placement: a cache line's round trip between the two cores, mean over 32 lines, nearest of 5 "
        "readings before the 2-thread ratios: "
     << std::to_string(long(std::lround(nearest))) << " ns\n";
  for (const auto& [n, c] : g_cases) {
    if ((c.backend != "openmp" && c.backend != "matrix") || c.threads != 2 || c.op != "step" ||
        c.precision != "double")
      continue;
    const std::string one = "double/step/" + c.backend + "/t1/" + c.shape;
    if (sec(n) <= 0 || sec(one) <= 0) continue;
    const std::string what = c.backend + " double step 2 threads vs 1, " + c.shape;
    std::fprintf(stderr, "bench_backends: paired re-measurement: %s ...\n", what.c_str());
    const double rt0 = core_round_trip_ns();
    const PairedRatio p = thread_scaling<double>(shape_from_label(c.shape), *backend_from_name(c.backend), 2.0, 0.02, 7);
    const double rt1 = core_round_trip_ns();
    scaling.push_back({c.precision, c.backend, c.shape, c.sweep, p, {}, std::max(rt0, rt1)});
    const std::size_t batch = std::stoul(c.shape.substr(c.shape.find("/b") + 2));
    if (c.backend != "openmp" || batch < 64) continue;
    target(what, p.median, 1.85, "x", paired_note(p, sec(one) / sec(n)) + placement(rt0, rt1));
    // Beside each openmp verdict, what two threads sharing nothing gained meanwhile
    // (perf::split_scaling): for the narrow networks the bound of any data-parallel step.
    std::fprintf(stderr, "bench_backends: paired re-measurement: openmp split, %s ...\n", c.shape.c_str());
    const PairedRatio q = split_scaling<double>(shape_from_label(c.shape), 2.0, 0.02, 7);
    const double rt2 = core_round_trip_ns();
    scaling.back().split = q;
    scaling.back().round_trip_ns = std::max(scaling.back().round_trip_ns, rt2);
    char line[256];
    std::snprintf(line, sizeof line, "#      split: two 1-thread halves of the batch side by side, nothing shared: %.3fx  ",
                  q.median);
    tg << line << paired_note(q, 0) << placement(rt1, rt2) << "\n";
  }
  write_file(out + "/scaling.csv", scaling_csv(scaling));
  const double o2 = sec("double/step/openmp/t2/" + wide);
  target("openmp double 2 threads " + wide + " step: fraction of 2-thread gemm", o2 > 0 ? g2 / o2 : 0, 0.2, "");
  for (int t : {1, 2}) {
    const std::string ts = "/step/matrix/t" + std::to_string(t) + "/" + wide;
    if (sec("float" + ts) <= 0 || sec("double" + ts) <= 0) continue;
    Bench<double> d(shape_from_label(wide), BackendKind::matrix, t);
    Bench<float> f(shape_from_label(wide), BackendKind::matrix, t);
    paired("matrix float vs double, " + std::to_string(t) + " thread(s), " + wide + " step", [&] { d.step(); },
           [&] { f.step(); }, sec("double" + ts) / sec("float" + ts), 1.8, "x");
  }
  write_file(out + "/targets.txt", tg.str());
  std::printf("\n%s", tg.str().c_str());
  std::printf("wrote %s/backends.csv, peak.csv, scaling.csv, targets.txt\n", out.c_str());
}
