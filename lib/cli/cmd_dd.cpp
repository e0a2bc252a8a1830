// nnlab double-descent   (contract section 4): random ReLU features, minimum-norm least squares.
#include "common.hpp"

#include "nnlab/formats/data.hpp"
#include "nnlab/methods/double_descent.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <unistd.h>

namespace nnlab::cli {


void register_double_descent(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("double-descent",
                               "random ReLU features phi(x) = relu(Vx + c), output layer by minimum-norm least "
                               "squares (or ridge); one CSV row per number of features");
  struct Opts {
    std::string dataset, x, y, features, out;
    std::size_t n_train = 0, n_test = 0, n_val = 0;
    std::string ridge_grid;
    double noise = 0, ridge = 0;
    int trials = 1, ensemble = 0, threads = 0;
    std::uint64_t seed = 0;
    bool progress = false;
  };
  auto o = std::make_shared<Opts>();
  s->add_option("--dataset", o->dataset, "built-in data: moons, circles, spirals, blobs, fashion-mnist");
  s->add_option("--x", o->x, "inputs, CSV (the first N rows train, the next M test)");
  s->add_option("--y", o->y, "targets, CSV");
  s->add_option("--n-train", o->n_train, "N, training samples")->required()->check(CLI::Range(std::size_t(1), std::size_t(1) << 30));
  s->add_option("--n-test", o->n_test, "M, test samples (default: 2000 with --dataset, all the rest with --x)")
      ->check(CLI::Range(std::size_t(1), std::size_t(1) << 30));
  s->add_option("--features", o->features, "p1,p2,...: numbers of random features")->required();
  s->add_option("--noise", o->noise, "share of training labels replaced by random ones")->check(real_option(0, 1))->capture_default_str();
  s->add_option("--ridge", o->ridge, "ridge lambda (default 0: minimum-norm least squares)")->check(real_option(0))->capture_default_str();
  s->add_option("--trials", o->trials, "independent draws of the features, averaged")->check(CLI::Range(1, 100000))->capture_default_str();
  s->add_option("--ensemble", o->ensemble, "K: also report the average of K independent models")->check(CLI::Range(0, 100000));
  s->add_option("--seed", o->seed, "seed of the data draw, the label noise and the features")->capture_default_str();
  s->add_option("--threads", o->threads, "threads over sweep points (default: all cores)")->check(CLI::Range(1, 4096));
  s->add_option("--out", o->out, "the CSV to write")->required();
  s->add_flag("--progress", o->progress, "progress on stderr even when it is not a terminal");
  s->add_option("--ridge-grid", o->ridge_grid, "l1,l2,...: choose the ridge per p on a validation set (with --dataset)");
  s->add_option("--n-val", o->n_val, "validation samples for --ridge-grid, drawn from the training split (default 1000)");
  s->callback([&run, o] {
    run = [o] {
      dd::Options opt;
      for (const auto& t : split_list(o->features)) {
        char* e = nullptr;
        const unsigned long v = std::strtoul(t.c_str(), &e, 10);
        if (t.empty() || *e || v == 0 || v > 10000000)
          throw InputError("--features " + o->features + ": '" + t + "' is not a number of features (1..1e7)");
        opt.features.push_back(v);
      }
      if (!o->dataset.empty() && (!o->x.empty() || !o->y.empty())) throw InputError("nnlab: give either --dataset or --x/--y, not both");
      if (o->dataset.empty() && (o->x.empty() || o->y.empty())) throw InputError("nnlab: give --x and --y, or --dataset");
      check_outputs({{"--x", o->x}, {"--y", o->y}}, {{"--out", o->out}, {"(run record)", run_record_path(o->out)}});
      check_writable(o->out);  // before the sweep, which can take minutes
      const double p_max = double(*std::max_element(opt.features.begin(), opt.features.end()));
      // One fit of the largest p: its features on the training set and their QR (2 p n), the
      // features of the test and validation sets (p m), V (p d); 8 bytes each.  A lower bound:
      // the threads fit several points at once.
      const auto require_fit = [&](double n, double m, double d) {
        char what[200];
        std::snprintf(what, sizeof what, "--features %s: p = %.0f random features on %.0f training and %.0f test samples, one fit,",
                      o->features.c_str(), p_max, n, m);
        require_memory(8 * p_max * (2 * n + m + d), what);
      };
      dd::Split D;
      if (!o->dataset.empty()) {
        // The sizes the options ask for, before the data are made: the sets (inputs and one-hot
        // targets, about three copies while they are drawn) and one fit.
        const data::Shape sh = data::shape_of(o->dataset.substr(0, o->dataset.find(':')));
        const double n = double(o->n_train), m = double(o->n_test ? o->n_test : 2000),
                     nv = o->ridge_grid.empty() ? 0.0 : double(o->n_val ? o->n_val : 1000);
        char what[200];
        std::snprintf(what, sizeof what, "--n-train %.0f, --n-test %.0f: the data of %s (%zu inputs, %zu classes)", n, m,
                      o->dataset.c_str(), sh.inputs, sh.classes);
        require_memory(3 * 8 * (n + m + nv) * double(sh.inputs + sh.classes), what);
        require_fit(n, m + nv, double(sh.inputs));
        if (!o->ridge_grid.empty()) {
          for (const auto& t : split_list(o->ridge_grid)) {
            const auto v = parse_real(t, 0);
            if (!v) throw InputError("--ridge-grid " + o->ridge_grid + ": '" + t + "' is not a ridge >= 0");
            opt.ridge_grid.push_back(*v);
          }
        }
        D = dd::dataset_split(o->dataset, o->n_train, o->n_test ? o->n_test : 2000,
                          opt.ridge_grid.empty() ? 0 : (o->n_val ? o->n_val : 1000), o->seed);
      } else {
        if (!o->ridge_grid.empty()) throw InputError("--ridge-grid: only with --dataset (the validation set is drawn from it)");
        const arma::mat X = read_csv(o->x), Y = read_csv(o->y);
        if (Y.n_rows != X.n_rows)
          throw InputError(o->y + ": has " + std::to_string(Y.n_rows) + " rows, " + o->x + " has " + std::to_string(X.n_rows));
        const std::size_t N = o->n_train, M = o->n_test ? o->n_test : (X.n_rows > N ? X.n_rows - N : 0);
        if (N + M > X.n_rows || M == 0)
          throw InputError(o->x + ": has " + std::to_string(X.n_rows) + " rows, fewer than --n-train " + std::to_string(N) +
                           (o->n_test ? " + --n-test " + std::to_string(M) + " = " + std::to_string(N + M)
                                      : " plus at least one test row"));
        D.Xtr = X.rows(0, N - 1).t();
        D.Ytr = Y.rows(0, N - 1).t();
        D.Xte = X.rows(N, N + M - 1).t();
        D.Yte = Y.rows(N, N + M - 1).t();
      }
      require_fit(double(D.Xtr.n_cols), double(D.Xte.n_cols + D.Xva.n_cols), double(D.Xtr.n_rows));
      dd::add_label_noise(D.Ytr, o->noise, o->seed * 7 + 3);
      opt.ridge = o->ridge;
      opt.trials = o->trials;
      opt.ensemble = o->ensemble;
      opt.seed = o->seed;
      opt.threads = o->threads > 0 ? o->threads : default_threads();
      opt.progress = o->progress || ::isatty(2);
      const auto pts = dd::sweep(D, opt);
      for (const auto& p : pts) {  // nothing non-finite is written
        const std::pair<const char*, double> cols[] = {
            {"train_mse", p.train_mse},   {"test_mse", p.test_mse},   {"test_error", p.test_error},
            {"weight_norm", p.weight_norm}, {"condition", p.condition}, {"ensemble_test_mse", p.ens_test_mse},
            {"ensemble_test_error", p.ens_test_error}};
        for (const auto& [col, v] : cols)
          if (!std::isfinite(v)) {
            std::fprintf(stderr, "nnlab double-descent: %s is %s at p = %zu; no file written\n", col,
                         fmt17(v).c_str(), p.features);
            return kCheckFailed;
          }
      }
      write_file(o->out, dd::to_csv(pts, o->ensemble > 0));
      write_run_record(o->out, "double-descent",
                       {{"seed", o->seed}, {"threads", opt.threads}, {"trials", o->trials}, {"ensemble", o->ensemble},
                        {"noise", o->noise}, {"ridge", o->ridge}, {"features", opt.features},
                        {"data", o->dataset.empty() ? o->x + ", " + o->y : o->dataset},
                        {"bits", "the same for any --threads and any number of MPI processes (every fit has its own "
                                 "seeds and one BLAS thread); the same OpenBLAS kernels give the same bits"}});
      std::fprintf(stderr, "nnlab double-descent: n = %zu, m = %zu, d = %zu, %zu values of p, %d trial(s)%s -> %s\n",
                   std::size_t(D.Xtr.n_cols), std::size_t(D.Xte.n_cols), std::size_t(D.Xtr.n_rows), pts.size(), o->trials,
                   o->ensemble ? (", ensembles of " + std::to_string(o->ensemble)).c_str() : "", o->out.c_str());
      std::fprintf(stderr, "%9s %12s %12s %10s %12s %12s\n", "features", "train_mse", "test_mse", "test_err", "|W|", "condition");
      for (const auto& p : pts)
        std::fprintf(stderr, "%9zu %12.4e %12.4e %10.4f %12.4e %12.4e\n", p.features, p.train_mse, p.test_mse, p.test_error,
                     p.weight_norm, p.condition);
      return kOk;
    };
  });
}

}  // namespace nnlab::cli
