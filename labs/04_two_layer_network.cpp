// Lab 04 -- The vectorised 2-layer sigmoid network of the lectures, written out:
//   Z1 = W1 X + b1, A1 = sigma(Z1), Z2 = W2 A1 + b2, A2 = sigma(Z2), log-loss;
//   dZ2 = A2 - Y, dW2 = dZ2 A1'/m, db2 = sum(dZ2, axis 1)/m,
//   dZ1 = W2' dZ2 o sigma'(Z1), dW1 = dZ1 X'/m, db1 = sum(dZ1, axis 1)/m.
// Checked against the library's backends; trained on moons (not linearly separable) from
// zero initialisation and from randn * 0.01: the symmetry problem, in numbers and a plot.
// Data: moons, m = 400, noise 0.15, seed 4.  Writes results/04_two_layer_network/*.csv, two_layer.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/formats/data.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cstdio>

using namespace nnlab;

namespace {
struct Two { arma::mat W1, W2; arma::vec b1, b2; };
arma::mat sig(const arma::mat& Z) { return 1 / (1 + arma::exp(-Z)); }
// One forward + backward pass in the lectures' notation; returns the cost, fills the gradients.
double pass(const Two& p, const arma::mat& X, const arma::rowvec& Y, Two& d) {
  const double m = double(X.n_cols);
  arma::mat Z1 = p.W1 * X;
  Z1.each_col() += p.b1;
  const arma::mat A1 = sig(Z1);
  arma::mat Z2 = p.W2 * A1;
  Z2.each_col() += p.b2;
  const arma::mat A2 = sig(Z2);
  const double L = -arma::accu(Y % arma::log(A2) + (1 - Y) % arma::log(1 - A2)) / m;
  const arma::mat dZ2 = A2 - arma::mat(Y);
  d.W2 = dZ2 * A1.t() / m;
  d.b2 = arma::sum(dZ2, 1) / m;
  const arma::mat dZ1 = (p.W2.t() * dZ2) % (A1 % (1 - A1));
  d.W1 = dZ1 * X.t() / m;
  d.b1 = arma::sum(dZ1, 1) / m;
  return L;
}
}  // namespace

int main() {
  lab::Sheet s("04_two_layer_network", "The vectorised 2-layer network and the symmetry problem");
  const auto ds = data::moons(400, 0.15, 4);
  const arma::mat& X = ds.X;
  const arma::rowvec Y = data::encode(ds, Loss::bce, 1);
  const std::size_t nh = 8;

  s.section("1. The lectures' equations against the library");
  arma::arma_rng::set_seed(4);
  Two p{arma::randn(nh, 2) * 0.5, arma::randn(1, nh) * 0.5, arma::randn(nh) * 0.1, arma::randn(1) * 0.1}, d;
  const double L = pass(p, X, Y, d);
  Network<double> net;
  net.loss = Loss::bce;
  net.layers.push_back({Activation::sigmoid, p.W1, p.b1});
  net.layers.push_back({Activation::sigmoid, p.W2, p.b2});
  for (BackendKind k : kAllBackends) {
    Cache<double> c;
    Grads<double> g;
    const double J = make_backend<double>(k)->value_and_grad(net, X, Y, c, g);
    const double e = std::max({std::abs(J - L) / L, arma::norm(g.dW[0] - d.W1, "inf"), arma::norm(g.dW[1] - d.W2, "inf"),
                               arma::norm(g.db[0] - d.b1, "inf"), arma::norm(g.db[1] - d.b2, "inf")});
    s.check(std::string(name(k)) + " backend gives the same cost and gradients (max diff " + lab::fmt(e, 2) + ")", e <= 1e-13);
  }

  s.section("2. Zero initialisation against randn * 0.01");
  s.say("With W = 0 every hidden unit computes the same function and receives the same gradient,\n"
        "so after any number of steps they are still identical: the network has one hidden unit.");
  const int iters = 10000;
  const double lr = 3.0;
  arma::vec it(iters / 50 + 1), spread_zero(iters / 50 + 1), spread_small(iters / 50 + 1), cost_zero(iters / 50 + 1),
      cost_small(iters / 50 + 1);
  Two zero{arma::zeros(nh, 2), arma::zeros(1, nh), arma::zeros(nh), arma::zeros(1)};
  arma::arma_rng::set_seed(40);
  Two small{arma::randn(nh, 2) * 0.01, arma::randn(1, nh) * 0.01, arma::zeros(nh), arma::zeros(1)};
  for (int k = 0; k <= iters; ++k) {
    Two dz, dsm;
    const double Lz = pass(zero, X, Y, dz), Ls = pass(small, X, Y, dsm);
    if (k % 50 == 0) {
      const int r = k / 50;
      it[r] = k;
      // spread of the hidden units: largest distance of a row of W1 from the mean row
      spread_zero[r] = arma::max(arma::sqrt(arma::sum(arma::square(zero.W1.each_row() - arma::mean(zero.W1, 0)), 1)));
      spread_small[r] = arma::max(arma::sqrt(arma::sum(arma::square(small.W1.each_row() - arma::mean(small.W1, 0)), 1)));
      cost_zero[r] = Lz;
      cost_small[r] = Ls;
    }
    for (Two* q : {&zero, &small}) {
      const Two& g = q == &zero ? dz : dsm;
      q->W1 -= lr * g.W1; q->b1 -= lr * g.b1; q->W2 -= lr * g.W2; q->b2 -= lr * g.b2;
    }
  }
  auto acc = [&](const Two& q) {
    arma::mat Z1 = q.W1 * X;
    Z1.each_col() += q.b1;
    arma::mat Z2 = q.W2 * sig(Z1);
    Z2.each_col() += q.b2;
    return arma::mean(arma::conv_to<arma::rowvec>::from((sig(Z2) > 0.5) == (Y > 0.5)));
  };
  s.show("zero init: max distance between hidden units after 10000 steps", spread_zero.tail(1)(0));
  s.show("randn*0.01: max distance between hidden units after 10000 steps", spread_small.tail(1)(0));
  s.show("zero init: cost", cost_zero.tail(1)(0));
  s.show("zero init: accuracy", acc(zero));
  s.show("randn*0.01: cost", cost_small.tail(1)(0));
  s.show("randn*0.01: accuracy", acc(small));
  s.check("zero init: the hidden units stay exactly identical", spread_zero.max() == 0);
  s.check("randn*0.01: the hidden units separate", spread_small.tail(1)(0) > 1);
  s.check("randn*0.01 reaches a lower cost than zero init", cost_small.tail(1)(0) < 0.8 * cost_zero.tail(1)(0));
  s.check("randn*0.01 classifies the moons (accuracy > 0.95)", acc(small) > 0.95);
  s.wrote(plot::write_table(s.id(), "symmetry.csv", {"iter", "spread_zero", "spread_small", "cost_zero", "cost_small"},
                            {it, spread_zero, spread_small, cost_zero, cost_small}));
  // Decision regions of the trained network on a grid.
  const arma::vec t1 = arma::regspace(-1.6, 0.04, 2.6), t2 = arma::regspace(-1.2, 0.04, 1.7);
  arma::mat G(2, t1.n_elem * t2.n_elem);
  for (arma::uword i = 0, k = 0; i < t1.n_elem; ++i)
    for (arma::uword j = 0; j < t2.n_elem; ++j, ++k) { G(0, k) = t1[i]; G(1, k) = t2[j]; }
  arma::mat Z1 = small.W1 * G;
  Z1.each_col() += small.b1;
  arma::mat Z2 = small.W2 * sig(Z1);
  Z2.each_col() += small.b2;
  s.wrote(plot::write_table(s.id(), "regions.csv", {"x1", "x2", "a"}, {arma::vec(G.row(0).t()), arma::vec(G.row(1).t()), arma::vec(sig(Z2).t())}));
  s.wrote(plot::write_table(s.id(), "points.csv", {"x1", "x2", "y"}, {arma::vec(X.row(0).t()), arma::vec(X.row(1).t()), arma::vec(Y.t())}));
  s.wrote(plot::render(s.id(), "two_layer"));
  return s.finish();
}
