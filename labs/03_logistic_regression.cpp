// Lab 03 -- Logistic regression: the lectures' two-feature neuron z = w1 x1 + w2 x2 + b,
// a = sigma(z), log-loss L = -(1/m) sum [y log a + (1 - y) log(1 - a)].
// Gradients derived by hand, dL/dw = (1/m) sum (a - y) x, dL/db = (1/m) sum (a - y), checked
// by finite differences and against the library; gradient descent with a fixed step.
// Data: two Gaussian clouds in the plane, m = 200, centres (-1, -1) and (1.5, 1), sd 1,
// arma seed 3.  Writes results/03_logistic_regression/{cost,points,boundary}.csv + logistic.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/logistic.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cmath>

using namespace nnlab;

int main() {
  lab::Sheet s("03_logistic_regression", "Logistic regression: one neuron, log-loss, gradient descent");
  const std::size_t m = 200;
  arma::arma_rng::set_seed(3);
  arma::mat X = arma::randn(2, m);
  arma::rowvec y(m);
  for (std::size_t i = 0; i < m; ++i) {
    y[i] = i % 2 ? 1.0 : 0.0;
    X(0, i) += y[i] ? 1.5 : -1.0;
    X(1, i) += y[i] ? 1.0 : -1.0;
  }

  s.section("1. The gradient by hand");
  s.say("dL/dz_i = (a_i - y_i)/m  (sigmoid and log-loss together: the lectures' d_L = A - Y),\n"
        "so dL/dw = (1/m) sum_i (a_i - y_i) x_i and dL/db = (1/m) sum_i (a_i - y_i).");
  arma::rowvec w = {0.3, -0.2};
  double b = 0.1;
  // stable: max(z,0) - z y + log1p(exp(-|z|)) (nnlab/methods/logistic.hpp)
  auto cost = [&](const arma::rowvec& ww, double bb) { return logistic::cost(X, y, ww, bb); };
  const auto grad = logistic::gradient(X, y, w, b);
  const arma::rowvec dw = grad.dw;
  const double db = grad.db;
  s.show("dL/dw (hand)", arma::mat(dw));
  s.show("dL/db (hand)", db);
  double worst = 0;
  for (int k = 0; k < 2; ++k)
    worst = std::max(worst, std::abs(dw[k] - fd_central([&](double v) { arma::rowvec ww = w; ww[k] = v; return cost(ww, b); }, w[k], 1e-3, 4)));
  worst = std::max(worst, std::abs(db - fd_central([&](double v) { return cost(w, v); }, b, 1e-3, 4)));
  s.show("max |hand - finite difference|", worst);
  s.check("the hand-derived gradient matches central differences (1e-10)", worst <= 1e-10);
  Network<double> net;
  net.loss = Loss::bce;
  net.layers.push_back({Activation::sigmoid, arma::mat(w), arma::vec{b}});
  Cache<double> c;
  Grads<double> g;
  const double J = make_backend<double>(BackendKind::naive)->value_and_grad(net, X, y, c, g);
  s.check_close("the library's bce cost equals the hand-written log-loss", J, cost(w, b), 1e-14);
  s.check("the library's gradient equals the hand-written one (1e-15)",
          arma::norm(g.dW[0] - dw, "inf") <= 1e-15 && std::abs(g.db[0][0] - db) <= 1e-15);

  s.section("2. Gradient descent with a fixed step lambda = 0.5");
  const int iters = 300;
  arma::vec it(iters + 1), J_it(iters + 1);
  for (int k = 0; k <= iters; ++k) {
    it[k] = k;
    J_it[k] = cost(w, b);
    if (k == iters) break;
    const auto gk = logistic::gradient(X, y, w, b);
    w -= 0.5 * gk.dw;  // w <- w - lambda dL/dw
    b -= 0.5 * gk.db;
  }
  const arma::rowvec af = 1 / (1 + arma::exp(-(w * X + b)));
  const double acc = arma::mean(arma::conv_to<arma::rowvec>::from((af > 0.5) == (y > 0.5)));
  s.show("cost at iteration 0", J_it[0]);
  s.show("cost after 300 iterations", J_it[iters]);
  s.show("w", arma::mat(w));
  s.show("b", b);
  s.show("training accuracy", acc);
  s.check("the cost decreases at every iteration", arma::all(arma::diff(J_it) <= 0));
  s.check("training accuracy above 0.9", acc > 0.9);
  s.say("The decision boundary is the line w1 x1 + w2 x2 + b = 0, where a = 1/2.");
  s.wrote(plot::write_table(s.id(), "cost.csv", {"iter", "cost"}, {it, J_it}));
  s.wrote(plot::write_table(s.id(), "points.csv", {"x1", "x2", "y"}, {arma::vec(X.row(0).t()), arma::vec(X.row(1).t()), arma::vec(y.t())}));
  const arma::vec bx = {-5.0, 5.0};
  s.wrote(plot::write_table(s.id(), "boundary.csv", {"x1", "x2"}, {bx, arma::vec((-b - w[0] * bx) / w[1])}));
  s.wrote(plot::render(s.id(), "logistic"));
  return s.finish();
}
