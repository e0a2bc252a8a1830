// Deep double descent: a width sweep of trained one-hidden-layer MLPs (d-w-10, ReLU,
// softmax + ce) on a Fashion-MNIST subset with a share of the training labels replaced,
// trained long enough to interpolate (no validation split, no early stopping: the last epoch
// is the model), averaged over seeds.  Test error against width: it falls, rises where the
// network just manages to fit the noisy labels (training error -> 0), then falls again.
//
//   deep_double_descent [key=value ...]      defaults: a few minutes (experiments/README.md)
//     n=1000 test=2000 noise=0.2 epochs=1000 seeds=3 loss=ce|mse opt=adam|sgd|momentum
//     lr=0 (the optimizer's default) batch=64 pool=4 widths=4,8,16,...,4096
//   pool: the 28x28 images averaged over pool x pool blocks; pool=4 gives 7x7 = 49 inputs, so
//   that one hidden unit costs 60 parameters instead of 795 and the threshold (where the
//   1000 noisy labels can just be fitted) falls at a width of a few hundred, with room on
//   both sides.  With the full 784 pixels the threshold sits near w = 16 and the first
//   descent is hidden in the underfitting of tiny widths.
// Writes results/deep_double_descent/sweep.csv (width, parameters, train/test error, losses).
#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/data.hpp"
#include "nnlab/methods/double_descent.hpp"
#include "nnlab/core/error.hpp"
#include "common/plot.hpp"
#include "nnlab/methods/train.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

using namespace nnlab;

namespace {
// 28x28 images (one per column) averaged over p x p blocks (p divides 28).
arma::mat pool(const arma::mat& X, int p) {
  if (p == 1) return X;
  const int s = 28 / p;
  arma::mat P(std::size_t(s * s), X.n_cols, arma::fill::zeros);
  for (arma::uword c = 0; c < X.n_cols; ++c)
    for (int r = 0; r < 28; ++r)
      for (int q = 0; q < 28; ++q) P((r / p) * s + q / p, c) += X(std::size_t(r * 28 + q), c) / (p * p);
  return P;
}
}  // namespace

int main(int argc, char** argv) try {
  nnlab::use_fast_blas_kernels();  // may re-execute this program with OPENBLAS_CORETYPE set
  std::map<std::string, std::string> kv = {{"n", "1000"},  {"test", "2000"}, {"noise", "0.2"},  {"epochs", "1000"},
                                           {"seeds", "3"},   {"loss", "ce"},   {"opt", "adam"},   {"lr", "0"},
                                           {"batch", "64"},  {"pool", "4"},
                                           {"widths", "4,8,16,32,64,128,192,256,384,512,1024,2048,4096"}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos || !kv.count(a.substr(0, eq)))
      throw InputError("deep_double_descent: unknown argument '" + a + "' (see the header of the source)");
    kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  const std::size_t n = std::stoul(kv["n"]);
  const int epochs = std::stoi(kv["epochs"]), seeds = std::stoi(kv["seeds"]), p = std::stoi(kv["pool"]);
  const bool mse = kv["loss"] == "mse";
  if (28 % p) throw InputError("deep_double_descent: pool must divide 28");
  std::vector<double> wv;
  std::stringstream ws(kv["widths"]);
  for (std::string t; std::getline(ws, t, ',');) wv.push_back(std::stod(t));
  const arma::vec widths(wv);

  const auto t0 = std::chrono::steady_clock::now();
  dd::Split D = dd::dataset_split("fashion-mnist", n, std::stoul(kv["test"]), 0, 21);
  dd::add_label_noise(D.Ytr, std::stod(kv["noise"]), 21);
  D.Xtr = pool(D.Xtr, p);
  D.Xte = pool(D.Xte, p);
  const std::size_t d = D.Xtr.n_rows;
  std::printf("# n=%zu d=%zu noise=%s loss=%s opt=%s lr=%s batch=%s epochs=%d seeds=%d seed=21\n", n, d,
              kv["noise"].c_str(), kv["loss"].c_str(), kv["opt"].c_str(),
              std::stod(kv["lr"]) == 0 ? "default" : kv["lr"].c_str(), kv["batch"].c_str(),
              epochs, seeds);
  const arma::uword W = widths.n_elem;
  arma::vec params(W), tr_err(W, arma::fill::zeros), te_err(W, arma::fill::zeros), tr_loss(W, arma::fill::zeros),
      te_loss(W, arma::fill::zeros);
  std::printf("%6s %8s %10s %10s %12s %12s\n", "width", "params", "train_err", "test_err", "train_loss", "test_loss");
  for (arma::uword i = 0; i < W; ++i) {
    const std::size_t w = std::size_t(widths[i]);
    params[i] = double(w * (d + 1) + 10 * (w + 1));
    for (int s = 0; s < seeds; ++s) {
      auto net = train::init_network<float>({d, w, 10}, {Activation::relu, mse ? Activation::identity : Activation::softmax},
                                            mse ? Loss::mse : Loss::ce, train::Init::he, std::uint64_t(100 + s));
      train::Options o;
      o.optimizer = kv["opt"];
      o.lr = std::stod(kv["lr"]);
      o.batch = std::stoul(kv["batch"]);
      o.epochs = epochs;
      o.seed = std::uint64_t(100 + s);
      o.val_fraction = 0;  // the last epoch: interpolation, not early stopping, is the point
      const auto r = train::run<float>(net, D.Xtr, D.Ytr, o);
      const auto etr = train::evaluate(r.model, D.Xtr, D.Ytr), ete = train::evaluate(r.model, D.Xte, D.Yte);
      tr_err[i] += (1 - etr.accuracy) / seeds;
      te_err[i] += (1 - ete.accuracy) / seeds;
      tr_loss[i] += etr.loss / seeds;
      te_loss[i] += ete.loss / seeds;
    }
    std::printf("%6zu %8.0f %10.4f %10.4f %12.4e %12.4e\n", w, params[i], tr_err[i], te_err[i], tr_loss[i], te_loss[i]);
    std::fflush(stdout);
  }
  plot::write_table("deep_double_descent", "sweep.csv",
                    {"width", "params", "train_error", "test_error", "train_loss", "test_loss"},
                    {widths, params, tr_err, te_err, tr_loss, te_loss});
  std::printf("deep double descent: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
} catch (const InputError& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 2;
}
