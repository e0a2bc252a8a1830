// nnlab train | evaluate   (contract section 4)
#include "common.hpp"
#include "nnlab/runtime/mpi.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/data.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/methods/train.hpp"

#include <cstdio>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace nnlab::cli {

namespace {
// X (n_0 x m) and Y (n_L x m) from --x/--y or --dataset, checked against the network.
void load_data(const std::string& x, const std::string& y, const std::string& dataset, std::uint64_t seed,
               Loss loss, std::size_t n_in, std::size_t n_out, arma::mat& X, arma::mat& Y, std::string& what) {
  if (!dataset.empty() && (!x.empty() || !y.empty())) throw InputError("nnlab: give either --dataset or --x/--y, not both");
  if (dataset.empty() && (x.empty() || y.empty())) throw InputError("nnlab: give --x and --y, or --dataset");
  if (!dataset.empty()) {
    const auto d = data::by_name(dataset, seed);
    if (d.X.n_rows != n_in)
      throw InputError("--dataset " + dataset + ": has " + std::to_string(d.X.n_rows) + " inputs, the network " +
                       std::to_string(n_in));
    X = d.X;
    Y = data::encode(d, loss, n_out);
    what = d.name + " (" + std::to_string(X.n_cols) + " samples" + (d.generated ? ", seed " + std::to_string(d.seed) : "") + ")";
    return;
  }
  const arma::mat Xr = read_csv(x), Yr = read_csv(y);
  if (Xr.n_cols != n_in)
    throw InputError(x + ": has " + std::to_string(Xr.n_cols) + " columns, the network has " + std::to_string(n_in) + " inputs");
  if (Yr.n_cols != n_out)
    throw InputError(y + ": has " + std::to_string(Yr.n_cols) + " columns, the network has " + std::to_string(n_out) + " outputs");
  if (Yr.n_rows != Xr.n_rows)
    throw InputError(y + ": has " + std::to_string(Yr.n_rows) + " rows, " + x + " has " + std::to_string(Xr.n_rows));
  validate_targets(loss, Yr, y);
  X = Xr.t();
  Y = Yr.t();
  what = x + " (" + std::to_string(X.n_cols) + " samples)";
}
}  // namespace

void register_train(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("train", "train a network; writes the model file (--out) atomically, progress on stderr");
  struct Opts {
    std::string x, y, dataset, layers, activations, loss, out, init = "auto", precision = "double", schedule = "constant";
    std::string backend = "matrix", log, checkpoint;
    double l1 = 0, l2 = 0, val = 0.1;
    int threads = 0;
    bool resume = false, progress = false, quiet = false, standardize = false;
    train::Options t;
  };
  auto o = std::make_shared<Opts>();
  s->add_option("--x", o->x, "inputs, CSV, one sample per row");
  s->add_option("--y", o->y, "targets, CSV, one sample per row");
  s->add_option("--dataset", o->dataset, "built-in data instead: xor4, moons, circles, spirals, blobs, fashion-mnist");
  s->add_option("--layers", o->layers, "sizes n_0,n_1,...,n_L, e.g. 784,256,128,10")->required();
  s->add_option("--activations", o->activations, "L activations, e.g. relu,relu,softmax")->required();
  s->add_option("--loss", o->loss, "mse | bce | ce | hinge")->required()->check(CLI::IsMember({"mse", "bce", "ce", "hinge"}));
  s->add_option("--optimizer", o->t.optimizer, "sgd | momentum | adam | gd-linesearch")
      ->check(CLI::IsMember({"sgd", "momentum", "adam", "gd-linesearch"}))->capture_default_str();
  s->add_option("--lr", o->t.lr, "learning rate (default: sgd 0.1, momentum 0.01, adam 1e-3)")->check(real_option(0, kNoLimit, true));
  s->add_option("--batch", o->t.batch, "minibatch size (1: single-sample SGD)")->check(CLI::Range(1, 1 << 30))->capture_default_str();
  s->add_option("--epochs", o->t.epochs, "epochs")->check(CLI::Range(0, 1000000))->capture_default_str();
  s->add_option("--l1", o->l1, "L1 coefficient on the weights")->check(real_option(0));
  s->add_option("--l2", o->l2, "L2 coefficient on the weights")->check(real_option(0));
  s->add_option("--init", o->init, "he | xavier | small | zeros (default: he for relu-like, else xavier)")
      ->check(CLI::IsMember({"auto", "he", "xavier", "small", "zeros"}));
  s->add_option("--seed", o->t.seed, "seed of the initialisation, the split, the shuffling and generated data")->capture_default_str();
  s->add_option("--backend", o->backend, "naive | matrix | openmp | graph | mpi (data-parallel; chosen by itself under mpirun)")
      ->check(CLI::IsMember({"naive", "matrix", "openmp", "graph", "mpi"}))->capture_default_str();
  s->add_option("--threads", o->threads, "threads (>= 1; default: all cores)")->check(CLI::Range(1, 4096));
  s->add_option("--out", o->out, "the model file to write")->required();
  s->add_option("--precision", o->precision, "float | double: the arithmetic of training")
      ->check(CLI::IsMember({"float", "double"}))->capture_default_str();
  s->add_option("--val", o->val, "share of the training data held out to choose the model")->check(real_option(0, 0.9))->capture_default_str();
  s->add_option("--patience", o->t.patience, "early stopping: epochs without a better validation accuracy (0: off)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--schedule", o->schedule, "constant | inverse (lr/(1 + decay t)) | step (lr gamma^(t/step))")
      ->check(CLI::IsMember({"constant", "inverse", "step"}))->capture_default_str();
  s->add_option("--decay", o->t.decay, "inverse schedule: decay")->check(real_option(0))->capture_default_str();
  s->add_option("--step-size", o->t.step_size, "step schedule: epochs per step")->check(CLI::Range(1, 1000000))->capture_default_str();
  s->add_option("--gamma", o->t.gamma, "step schedule: factor")->check(real_option(0, kNoLimit, true))->capture_default_str();
  s->add_flag("--standardize", o->standardize, "standardise the inputs (folded into the first layer of the saved model)");
  s->add_option("--log", o->log, "CSV of the learning curves");
  s->add_option("--checkpoint", o->checkpoint, "checkpoint file, written atomically after every epoch");
  s->add_flag("--resume", o->resume, "continue from --checkpoint");
  s->add_flag("--progress", o->progress, "a line per epoch on stderr even when it is not a terminal");
  s->add_flag("--quiet", o->quiet, "no per-epoch lines, even on a terminal");
  s->callback([&run, o] {
    run = [o] {
      std::vector<std::size_t> sizes;
      for (const auto& t : split_list(o->layers)) {
        char* e = nullptr;
        const unsigned long v = std::strtoul(t.c_str(), &e, 10);
        if (t.empty() || *e || v == 0 || v > 100000000)
          throw InputError("--layers " + o->layers + ": '" + t + "' is not a layer size (1..1e8)");
        sizes.push_back(v);
      }
      // The weights, their gradients, the best model's copy and the optimizer's state (Adam two
      // copies, momentum one, the line search its trial network): 3-5 copies of the parameters,
      // 8 bytes each.
      {
        double params = 0;
        for (std::size_t l = 1; l < sizes.size(); ++l) params += double(sizes[l]) * double(sizes[l - 1] + 1);
        const std::string& opt = o->t.optimizer;
        const double copies = 3 + (opt == "adam" ? 2 : opt == "sgd" ? 0 : 1);
        char what[160];
        std::snprintf(what, sizeof what, "--layers %s: %.3g parameters (weights, gradients, optimizer state, best model)",
                      o->layers.c_str(), params);
        require_memory(copies * 8 * params, what);
      }
      std::vector<Activation> acts;
      for (const auto& t : split_list(o->activations)) {
        const auto a = activation_from_name(t);
        if (!a) throw InputError("--activations " + o->activations + ": unknown activation '" + t + "'");
        acts.push_back(*a);
      }
      const Loss loss = *loss_from_name(o->loss);
      train::Init init;
      if (o->init == "auto") {
        const Activation h = acts.empty() ? Activation::relu : acts.front();
        const bool relu_like = h == Activation::relu || h == Activation::leaky_relu || h == Activation::rrelu ||
                               h == Activation::elu || h == Activation::selu || h == Activation::celu ||
                               h == Activation::gelu || h == Activation::relu6;
        init = relu_like ? train::Init::he : train::Init::xavier;
      } else {
        init = train::init_from_name(o->init);
      }
      auto net = train::init_network<double>(sizes, acts, loss, init, o->t.seed, o->l1, o->l2);
      // Before the data and the training: no output may destroy an input or another output, and
      // a run must not end in an output it cannot write.
      check_outputs({{"--x", o->x}, {"--y", o->y}}, {{"--out", o->out},
                                                     {"--log", o->log},
                                                     {"--checkpoint", o->checkpoint},
                                                     {"(run record)", run_record_path(o->out)}});
      for (const std::string* p : {&o->out, &o->log, &o->checkpoint})
        if (!p->empty()) check_writable(*p);
      arma::mat X, Y;
      std::string what;
      load_data(o->x, o->y, o->dataset, o->t.seed, loss, net.n_in(), net.n_out(), X, Y, what);
      data::Standardizer st;
      if (o->standardize) { st.fit(X); X = st.apply(X); }
      train::Options t = o->t;
      t.val_fraction = o->val;
      t.schedule = o->schedule == "inverse" ? train::Schedule::inverse
                   : o->schedule == "step" ? train::Schedule::step : train::Schedule::constant;
      t.backend = *backend_from_name(o->backend);
      if (mpi::size() > 1 && t.backend != BackendKind::mpi) {
        std::cerr << "nnlab train: " << mpi::size() << " MPI processes: data-parallel, backend mpi (not " << o->backend
                  << ")\n";
        t.backend = BackendKind::mpi;
        o->backend = "mpi";
      }
      t.threads = o->threads > 0 ? o->threads : default_threads();
      give_cores(t.backend, t.threads);
      set_openmp_threads(t.threads);
      t.progress = !o->quiet && (o->progress || ::isatty(2));
      t.log_csv = o->log;
      t.checkpoint = o->checkpoint;
      t.resume = o->resume;
      train::check_options(t, X.n_cols);  // a refusal is the one line on stderr, before the summary
      if (t.resume) {
        if (o->precision == "float") train::resume_point(net.cast<float>(), X, Y, t);
        else train::resume_point(net, X, Y, t);
      }
      std::cerr << "nnlab train: " << o->layers << " (" << o->activations << "), loss " << o->loss << ", "
                << t.optimizer << ", batch " << t.batch << ", " << t.epochs << " epochs, " << o->precision << ", "
                << o->backend << " backend, " << t.threads << " threads, seed " << t.seed << "; data " << what << "\n";
      const train::Result r = o->precision == "float" ? train::run<float>(net.cast<float>(), X, Y, t)
                                                       : train::run<double>(net, X, Y, t);
      Network<double> model = r.model;
      if (o->standardize) {  // fold (x - mean)/sd into layer 1: W' = W diag(1/sd), b' = b - W' mean
        auto& L = model.layers.front();
        L.W.each_row() /= st.sd.t();
        L.b -= L.W * st.mean;
      }
      bool finite = true;
      for (const auto& L : model.layers) finite = finite && L.W.is_finite() && L.b.is_finite();
      if (r.diverged || !finite) {
        std::cerr << "nnlab train: training diverged at epoch " << (r.history.empty() ? 0 : r.history.back().epoch)
                  << " (the loss or the weights are not finite): no model written"
                  << (o->log.empty() ? "" : ", no log")
                  << (o->checkpoint.empty() ? "" : "; the checkpoint of the epoch before is kept")
                  << ". A smaller --lr usually helps\n";
        return kCheckFailed;
      }
      write_model(o->out, model);
      const bool same_bits_any_threads = t.backend != BackendKind::matrix && t.backend != BackendKind::graph;
      write_run_record(o->out, "train",
                       {{"seed", t.seed}, {"backend", o->backend}, {"threads", t.threads}, {"precision", o->precision},
                        {"optimizer", t.optimizer}, {"epochs", r.history.size()}, {"best_epoch", r.best_epoch},
                        {"data", what},
                        {"bits", same_bits_any_threads
                                     ? "the same for any --threads (and any number of MPI processes with the mpi "
                                       "backend); the same OpenBLAS kernels give the same bits"
                                     : "the same only with the same --threads and the same OpenBLAS kernels (the "
                                       "BLAS splits its sums by thread)"}});
      if (!r.history.empty()) {
        const auto& b = r.history[std::size_t(r.best_epoch - 1 - (r.history.front().epoch - 1))];
        char val[64] = "no validation set";
        if (r.n_val > 0) std::snprintf(val, sizeof val, "val acc %.4f on %zu samples", b.val_acc, r.n_val);
        std::fprintf(stderr,
                     "nnlab train: %zu epochs in %.2f s (%.3f s/epoch)%s; model of epoch %d (train loss %.5f, train acc "
                     "%.4f, %s) written to %s\n",
                     r.history.size(), r.seconds, r.seconds / double(r.history.size()),
                     r.stopped_early ? ", stopped early" : "", r.best_epoch, b.train_loss, b.train_acc, val,
                     o->out.c_str());
      } else {
        std::cerr << "nnlab train: 0 epochs; the initial model written to " << o->out << "\n";
      }
      return kOk;
    };
  });
}

void register_evaluate(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("evaluate", "loss J and accuracy of a model on data: {\"loss\", \"accuracy\", \"n\"} on stdout");
  struct Opts { std::string model, x, y, dataset; std::uint64_t seed = 0; };
  auto o = std::make_shared<Opts>();
  s->add_option("--model", o->model, "model file")->required();
  s->add_option("--x", o->x, "inputs, CSV");
  s->add_option("--y", o->y, "targets, CSV");
  s->add_option("--dataset", o->dataset, "built-in data: NAME or NAME:test");
  s->add_option("--seed", o->seed, "seed of generated data sets")->capture_default_str();
  s->callback([&run, o] {
    run = [o] {
      const auto net = read_model(o->model);
      arma::mat X, Y;
      std::string what;
      load_data(o->x, o->y, o->dataset, o->seed, net.loss, net.n_in(), net.n_out(), X, Y, what);
      set_blas_threads(1);  // the same bits on any machine (lib/README.md, "Determinism")
      park_blas_threads();
      const auto e = train::evaluate(net, X, Y);
      if (!std::isfinite(e.loss)) {
        std::cerr << "nnlab evaluate: the loss is not finite\n";
        return kCheckFailed;
      }
      write_stdout("{ \"loss\": " + fmt17(e.loss) + ", \"accuracy\": " + fmt17(e.accuracy) + ", \"n\": " +
                   std::to_string(e.n) + " }\n");
      std::cerr << "nnlab evaluate: " << what << ": loss " << e.loss << ", accuracy " << e.accuracy << "\n";
      return kOk;
    };
  });
}

}  // namespace nnlab::cli
