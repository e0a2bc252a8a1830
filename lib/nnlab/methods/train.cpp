// Initialisation and the training loop (see nnlab/methods/train.hpp).
#include "nnlab/methods/train.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/data.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/methods/optim.hpp"


#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <unistd.h>
#include <xmmintrin.h>

namespace nnlab::train {

Init init_from_name(const std::string& s) {
  if (s == "zeros") return Init::zeros;
  if (s == "small") return Init::small;
  if (s == "xavier") return Init::xavier;
  if (s == "he") return Init::he;
  throw InputError("--init " + s + ": must be he, xavier, small or zeros");
}

template <class T>
Network<T> init_network(const std::vector<std::size_t>& sizes, const std::vector<Activation>& acts, Loss loss,
                        Init init, std::uint64_t seed, double l1, double l2) {
  if (sizes.size() < 2 || acts.size() + 1 != sizes.size())
    throw InputError("--layers/--activations: need L+1 sizes and L activations (got " + std::to_string(sizes.size()) +
                     " and " + std::to_string(acts.size()) + ")");
  for (auto n : sizes) if (n == 0) throw InputError("--layers: sizes must be >= 1");
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  std::uniform_real_distribution<double> U(-1, 1);
  Network<T> net;
  net.loss = loss;
  net.l1 = T(l1);
  net.l2 = T(l2);
  for (std::size_t l = 1; l < sizes.size(); ++l) {
    const double nin = double(sizes[l - 1]), nout = double(sizes[l]);
    Layer<T> L{acts[l - 1], arma::Mat<T>(sizes[l], sizes[l - 1]), arma::Col<T>(sizes[l], arma::fill::zeros)};
    for (auto& w : L.W) {
      switch (init) {
        case Init::zeros: w = 0; break;
        case Init::small: w = T(0.01 * N(rng)); break;
        case Init::xavier: w = T(std::sqrt(6.0 / (nin + nout)) * U(rng)); break;
        case Init::he: w = T(std::sqrt(2.0 / nin) * N(rng)); break;
      }
    }
    net.layers.push_back(std::move(L));
  }
  net.validate();
  return net;
}

Evaluation evaluate(const Network<double>& net, const arma::mat& X, const arma::mat& Y) {
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> c;
  Evaluation e;
  e.loss = be->value(net, X, Y, c);
  e.accuracy = data::accuracy(c.A.back(), Y, net.loss);
  e.n = X.n_cols;
  return e;
}

namespace {

using clk = std::chrono::steady_clock;

double lr_at(const Options& o, double lr0, int epoch) {
  switch (o.schedule) {
    case Schedule::constant: return lr0;
    case Schedule::inverse: return optim::decreasing_step(lr0, o.decay, epoch);
    case Schedule::step: return lr0 * std::pow(o.gamma, epoch / std::max(o.step_size, 1));
  }
  return lr0;
}

std::string fmt_time(double s) {
  char b[32];
  if (s < 60) std::snprintf(b, sizeof b, "%.1f s", s);
  else std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
  return b;
}

// Whether every parameter is finite (a run whose weights overflowed has diverged).
template <class T> bool finite(const Network<T>& net) {
  for (const auto& L : net.layers)
    if (!L.W.is_finite() || !L.b.is_finite()) return false;
  return true;
}

}  // namespace

namespace {
std::string hex64(std::uint64_t h) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}
// FNV-1a over the bytes of the data and their shapes.
std::uint64_t fnv1a(std::uint64_t h, const void* p, std::size_t n) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ULL;
  return h;
}

}  // namespace

template <class T>
RunConfig run_config(const Network<T>& net, const arma::mat& X, const arma::mat& Y, const Options& o, double lr0) {
  RunConfig r;
  r.sizes = net.sizes();
  for (const auto& L : net.layers) r.activations.emplace_back(name(L.act));
  r.loss = name(net.loss);
  r.l1 = double(net.l1);
  r.l2 = double(net.l2);
  r.optimizer = o.optimizer;
  r.lr = lr0;
  r.batch = o.batch;
  r.schedule = o.schedule == Schedule::inverse ? "inverse" : o.schedule == Schedule::step ? "step" : "constant";
  r.decay = o.decay;
  r.step_size = o.step_size;
  r.gamma = o.gamma;
  r.seed = o.seed;
  r.val = o.val_fraction;
  r.precision = std::is_same_v<T, float> ? "float" : "double";
  r.backend = std::string(name(o.backend));
  r.threads = o.threads;
  r.samples = X.n_cols;
  std::uint64_t h = 14695981039346656037ULL;
  for (const arma::mat* M : {&X, &Y}) {
    const std::uint64_t dims[2] = {M->n_rows, M->n_cols};
    h = fnv1a(h, dims, sizeof dims);
    h = fnv1a(h, M->memptr(), M->n_elem * sizeof(double));
  }
  r.data_hash = hex64(h);
  return r;
}

template RunConfig run_config<float>(const Network<float>&, const arma::mat&, const arma::mat&, const Options&, double);
template RunConfig run_config<double>(const Network<double>&, const arma::mat&, const arma::mat&, const Options&, double);

double learning_rate(const Options& o) {
  if (o.lr > 0) return o.lr;
  return o.optimizer == "sgd" ? 0.1 : o.optimizer == "momentum" ? 0.01 : o.optimizer == "adam" ? 1e-3 : 1.0;
}

template <class T>
Checkpoint resume_point(const Network<T>& net, const arma::mat& X, const arma::mat& Y, const Options& o) {
  Checkpoint ck = read_checkpoint(o.checkpoint);
  if (const std::string d = config_difference(ck.config, run_config(net, X, Y, o, learning_rate(o))); !d.empty())
    throw InputError(o.checkpoint + ": made with another configuration: this run has " + d +
                     "; resume with the checkpoint's options, or start a new checkpoint");
  if (ck.epoch > o.epochs)
    throw InputError(o.checkpoint + ": at epoch " + std::to_string(ck.epoch) + ", past --epochs " +
                     std::to_string(o.epochs));
  return ck;
}
template Checkpoint resume_point<float>(const Network<float>&, const arma::mat&, const arma::mat&, const Options&);
template Checkpoint resume_point<double>(const Network<double>&, const arma::mat&, const arma::mat&, const Options&);

std::size_t validation_size(std::size_t m, double val_fraction) {
  const std::size_t nval = std::size_t(std::floor(val_fraction * double(m)));
  return m == 0 ? 0 : std::min(nval, m - 1);
}

void check_options(const Options& o, std::size_t m) {
  if (o.epochs < 0 || o.batch == 0) throw InputError("train: epochs must be >= 0 and batch >= 1");
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) throw InputError("train: the validation share must be in [0, 1)");
  if (o.patience > 0 && validation_size(m, o.val_fraction) == 0) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "train: early stopping (patience %d) needs a validation set; a share of %g of %zu samples holds out "
                  "none", o.patience, o.val_fraction, m);
    throw InputError(msg);
  }
  if (o.resume) {
    if (o.checkpoint.empty()) throw InputError("--resume needs --checkpoint FILE");
    if (::access(o.checkpoint.c_str(), F_OK) != 0)
      throw InputError(o.checkpoint + ": no checkpoint to resume from (run once without --resume to start one)");
  }
}

template <class T>
Result run(Network<T> net, const arma::mat& X, const arma::mat& Y, const Options& o) {
  net.validate();
  if (X.n_cols != Y.n_cols || X.n_rows != net.n_in() || Y.n_rows != net.n_out())
    throw InputError("train: X is " + std::to_string(X.n_rows) + " x " + std::to_string(X.n_cols) + ", Y is " +
                     std::to_string(Y.n_rows) + " x " + std::to_string(Y.n_cols) + ", the network has " +
                     std::to_string(net.n_in()) + " inputs and " + std::to_string(net.n_out()) + " outputs");
  const std::size_t m = X.n_cols;
  check_options(o, m);
  // Validation split, seeded; at least one training sample.
  const arma::uvec perm = data::permutation(m, o.seed * 2 + 1);
  const std::size_t nval = validation_size(m, o.val_fraction);
  const arma::uvec tr_idx = perm.head(m - nval), va_idx = perm.tail(nval);
  const arma::Mat<T> Xtr = arma::conv_to<arma::Mat<T>>::from(X.cols(tr_idx)),
                     Ytr = arma::conv_to<arma::Mat<T>>::from(Y.cols(tr_idx)),
                     Xva = arma::conv_to<arma::Mat<T>>::from(X.cols(va_idx)),
                     Yva = arma::conv_to<arma::Mat<T>>::from(Y.cols(va_idx));
  const std::size_t mtr = Xtr.n_cols;
  const double lr0 = learning_rate(o);
  const std::unique_ptr<optim::Optimizer<T>> opt = optim::make<T>(o.optimizer, T(lr0));
  auto be = make_backend<T>(o.backend, o.threads);
  Cache<T> c, cv;
  Grads<T> g;
  arma::Mat<T> Xb, Yb;

  Result r;
  r.model = net.template cast<double>();
  r.n_val = nval;
  double best_val = -1;
  int start = 0;
  const RunConfig config = run_config(net, X, Y, o, lr0);
  if (o.resume) {
    const Checkpoint ck = resume_point(net, X, Y, o);
    net = ck.model.template cast<T>();
    r.model = ck.best;
    r.best_epoch = ck.best_epoch;
    best_val = ck.best_val;
    r.history = ck.history;
    opt->t = ck.opt_t;
    const auto st = opt->state(net);  // sizes checked by the reader against the configuration
    for (std::size_t k = 0; k < st.size(); ++k)
      for (std::size_t i = 0; i < ck.opt_state[k].size(); ++i) (*st[k])[i] = T(ck.opt_state[k][i]);
    start = ck.epoch;
  }
  const unsigned csr = _mm_getcsr();
  if (o.ftz) _mm_setcsr(csr | 0x8040);  // FTZ (bit 15) + DAZ (bit 6): subnormals become 0
  const auto t0 = clk::now();
  const double prior = r.history.empty() ? 0.0 : r.history.back().seconds;
  int since_best = 0;
  for (int epoch = start + 1; epoch <= o.epochs; ++epoch) {
    Epoch e;
    e.epoch = epoch;
    e.lr = lr_at(o, lr0, epoch - 1);
    double loss_sum = 0, acc_sum = 0;
    if (opt->full_batch()) {  // the whole training set, in its order
      loss_sum = double(opt->step(*be, net, Xtr, Ytr, c, g));
      acc_sum = data::accuracy(c.A.back(), Ytr, net.loss);
      e.lr = opt->lr;  // the step the line search took
    } else {
      opt->lr = T(e.lr);
      const arma::uvec order = data::permutation(mtr, o.seed * 1000003ULL + std::uint64_t(epoch));
      std::size_t seen = 0;
      for (std::size_t s0 = 0; s0 < mtr; s0 += o.batch) {
        const arma::uvec idx = order.subvec(s0, std::min(s0 + o.batch, mtr) - 1);
        Xb = Xtr.cols(idx);  // reused buffers: same size, no allocation (and no page faults)
        Yb = Ytr.cols(idx);
        const T J = opt->step(*be, net, Xb, Yb, c, g);
        loss_sum += double(J) * double(idx.n_elem);
        acc_sum += data::accuracy(c.A.back(), Yb, net.loss) * double(idx.n_elem);
        seen += idx.n_elem;
      }
      loss_sum /= double(seen);
      acc_sum /= double(seen);
    }
    e.train_loss = loss_sum;
    e.train_acc = acc_sum;
    if (nval > 0) {
      e.val_loss = double(be->value(net, Xva, Yva, cv));
      e.val_acc = data::accuracy(cv.A.back(), Yva, net.loss);
    }
    e.seconds = prior + std::chrono::duration<double>(clk::now() - t0).count();
    r.history.push_back(e);
    if (!std::isfinite(e.train_loss) || !std::isfinite(e.val_loss) || !finite(net)) {
      r.diverged = true;  // no model choice, no checkpoint, no log from a non-finite epoch
      if (o.progress)
        std::fprintf(stderr, "epoch %3d/%d  loss %g: not finite, training stopped\n", epoch, o.epochs, e.train_loss);
      break;
    }
    // Model choice: the best validation accuracy (ties: the later epoch); no validation set:
    // the last epoch.
    if (nval == 0 || e.val_acc >= best_val) {
      if (nval > 0 && e.val_acc > best_val) since_best = 0;
      best_val = std::max(best_val, e.val_acc);
      r.model = net.template cast<double>();
      r.best_epoch = epoch;
    } else {
      ++since_best;
    }
    if (o.progress) {
      const double per = (e.seconds - prior) / double(epoch - start);
      std::fprintf(stderr, "epoch %3d/%d  lr %.3g  loss %.6g  train acc %.4f", epoch, o.epochs, e.lr, e.train_loss,
                   e.train_acc);
      if (nval > 0) std::fprintf(stderr, "  val loss %.6g  val acc %.4f", e.val_loss, e.val_acc);
      std::fprintf(stderr, "  %s elapsed, ~%s left\n", fmt_time(e.seconds).c_str(),
                   fmt_time(per * double(o.epochs - epoch)).c_str());
    }
    if (!o.checkpoint.empty()) {
      Checkpoint ck{config, epoch, net.template cast<double>(), r.model, r.best_epoch, best_val, r.history, opt->t, {}};
      for (const auto* M : opt->state(net)) ck.opt_state.emplace_back(M->begin(), M->end());
      write_file(o.checkpoint, checkpoint_to_json(ck));
    }
    if (o.patience > 0 && nval > 0 && since_best >= o.patience) {
      r.stopped_early = true;
      break;
    }
  }
  if (o.ftz) _mm_setcsr(csr);
  r.seconds = r.history.empty() ? 0 : r.history.back().seconds;
  if (!o.log_csv.empty() && !r.diverged) {
    std::string s = "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds\n";
    for (const auto& e : r.history)
      s += std::to_string(e.epoch) + "," + fmt17(e.lr) + "," + fmt17(e.train_loss) + "," + fmt17(e.train_acc) + "," +
           fmt17(e.val_loss) + "," + fmt17(e.val_acc) + "," + fmt17(e.seconds) + "\n";
    write_file(o.log_csv, s);
  }
  return r;
}

template Network<float> init_network<float>(const std::vector<std::size_t>&, const std::vector<Activation>&, Loss,
                                            Init, std::uint64_t, double, double);
template Network<double> init_network<double>(const std::vector<std::size_t>&, const std::vector<Activation>&, Loss,
                                              Init, std::uint64_t, double, double);
template Result run<float>(Network<float>, const arma::mat&, const arma::mat&, const Options&);
template Result run<double>(Network<double>, const arma::mat&, const arma::mat&, const Options&);

}  // namespace nnlab::train
