// Deep double descent: a width sweep of trained one-hidden-layer MLPs (784-w-10, ReLU,
// softmax + ce) on a Fashion-MNIST subset with 20% of the training labels replaced, trained
// long enough to interpolate, averaged over seeds.  Test error against width: it falls, rises
// where the network just manages to fit the noisy labels, then falls again.
//   deep_double_descent [n=1000] [epochs=300] [seeds=2]
// Writes results/deep_double_descent/sweep.csv (width, train/test error, train loss).
#include "nnlab/data.hpp"
#include "nnlab/double_descent.hpp"
#include "nnlab/plot.hpp"
#include "nnlab/train.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace nnlab;

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::size_t(std::atol(argv[1])) : 1000;
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 300, seeds = argc > 3 ? std::atoi(argv[3]) : 2;
  const auto t0 = std::chrono::steady_clock::now();
  dd::Split D = dd::dataset_split("fashion-mnist", n, 2000, 0, 21);
  dd::add_label_noise(D.Ytr, 0.2, 21);
  const arma::vec widths = {1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 256, 512};
  arma::vec tr_err(widths.n_elem, arma::fill::zeros), te_err(widths.n_elem, arma::fill::zeros),
      tr_loss(widths.n_elem, arma::fill::zeros);
  std::printf("%6s %10s %10s %12s\n", "width", "train_err", "test_err", "train_loss");
  for (arma::uword i = 0; i < widths.n_elem; ++i) {
    for (int s = 0; s < seeds; ++s) {
      auto net = train::init_network<float>({784, std::size_t(widths[i]), 10}, {Activation::relu, Activation::softmax},
                                            Loss::ce, train::Init::he, std::uint64_t(100 + s));
      train::Options o;
      o.optimizer = "adam";
      o.lr = 1e-3;
      o.batch = 64;
      o.epochs = epochs;
      o.seed = std::uint64_t(100 + s);
      o.val_fraction = 0;  // the last epoch: interpolation, not early stopping, is the point
      const auto r = train::run<float>(net, D.Xtr, D.Ytr, o);
      const auto etr = train::evaluate(r.model, D.Xtr, D.Ytr), ete = train::evaluate(r.model, D.Xte, D.Yte);
      tr_err[i] += (1 - etr.accuracy) / seeds;
      te_err[i] += (1 - ete.accuracy) / seeds;
      tr_loss[i] += etr.loss / seeds;
    }
    std::printf("%6.0f %10.4f %10.4f %12.4e\n", widths[i], tr_err[i], te_err[i], tr_loss[i]);
    std::fflush(stdout);
  }
  plot::write_table("deep_double_descent", "sweep.csv", {"width", "train_error", "test_error", "train_loss"},
                    {widths, tr_err, te_err, tr_loss});
  std::printf("deep double descent: n = %zu, 20%% label noise, %d epochs, %d seeds: %.1f s\n", n, epochs, seeds,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}
