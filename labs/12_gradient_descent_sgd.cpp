// Lab 12 -- Gradient descent and its stochastic versions on the same problems:
//   full-batch GD with a fixed step;  GD with the lectures' line search (lambda = 1, halve
//   while F(u - lambda grad) >= F(u));  SGD on one sample with a decreasing step fixed in
//   advance, lambda(t) = lambda0 / (1 + t/1000);  minibatch SGD (32);  momentum;  Adam.
// Loss on the whole training set against the number of per-sample gradients computed, for a
// convex problem (logistic regression, two blobs) and a non-convex one (2-16-1 tanh MLP on
// the moons); then the lectures' hinge-loss training, partial_loss = sum_batch relu(1 - y f(x)).
// Data: m = 500, seed 12.  Writes results/12_gradient_descent_sgd/{convex,mlp}_<method>.csv, sgd.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/formats/data.hpp"
#include "common/sheet.hpp"
#include "nnlab/methods/optim.hpp"
#include "common/plot.hpp"
#include "nnlab/methods/train.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

using namespace nnlab;

namespace {
struct Trace { arma::vec evals, loss; };

// Runs `method` until `budget` per-sample gradients have been computed; logs the full loss.
Trace run_method(const std::string& method, Network<double> net, const arma::mat& X, const arma::mat& Y,
                 double budget, double lr) {
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> c, cf;
  Grads<double> g;
  const std::size_t m = X.n_cols;
  std::vector<double> ev, lo;
  double evals = 0, next_log = 0;
  auto log = [&] {
    if (evals >= next_log) {
      ev.push_back(std::max(evals, 1.0));
      lo.push_back(be->value(net, X, Y, cf));
      next_log = std::max(next_log * 1.05, next_log + double(m) / 4);
    }
  };
  std::mt19937_64 rng(12);
  std::unique_ptr<optim::GradientOptimizer<double>> opt;
  if (method == "momentum") opt = std::make_unique<optim::Momentum<double>>(lr);
  else if (method == "adam") opt = std::make_unique<optim::Adam<double>>(lr);
  else opt = std::make_unique<optim::Sgd<double>>(lr);
  optim::LineSearch<double> line_search;
  std::size_t t = 0;
  log();
  while (evals < budget) {
    if (method == "gd") {
      be->value_and_grad(net, X, Y, c, g);
      evals += double(m);
      opt->update(net, g);
    } else if (method == "gd-linesearch") {  // the lectures' backtracking line search
      line_search.step(*be, net, X, Y, c, g);
      // the gradient, then one forward pass over the data per trial lambda = 1, 1/2, ...
      // (counted as gradients' worth)
      evals += double(m) * (2 - std::log2(line_search.lr));
    } else {
      const std::size_t B = method == "sgd-1" ? 1 : 32;
      std::uniform_int_distribution<std::size_t> pick(0, m - 1);
      arma::uvec idx(B);
      for (auto& i : idx) i = pick(rng);
      be->value_and_grad(net, X.cols(idx), Y.cols(idx), c, g);
      evals += double(B);
      if (method == "sgd-1") opt->lr = optim::decreasing_step(lr, 1e-3, double(t));  // lambda(t), fixed in advance
      opt->update(net, g);
      ++t;
    }
    log();
  }
  return {arma::vec(ev), arma::vec(lo)};
}
}  // namespace

int main() {
  lab::Sheet s("12_gradient_descent_sgd", "Gradient descent, line search, SGD, momentum, Adam");
  const std::vector<std::string> methods{"gd", "gd-linesearch", "sgd-1", "sgd-32", "momentum", "adam"};
  struct Problem { std::string tag; Network<double> net; arma::mat X, Y; std::vector<double> lr; };
  const auto blobs = data::blobs(500, 2, 1.2, 12);
  const auto moons = data::moons(500, 0.15, 12);
  std::vector<Problem> problems{
      {"convex", train::init_network<double>({2, 1}, {Activation::sigmoid}, Loss::bce, train::Init::zeros, 12), blobs.X,
       data::encode(blobs, Loss::bce, 1), {1.0, 0, 0.5, 0.5, 0.1, 0.05}},
      {"mlp", train::init_network<double>({2, 16, 1}, {Activation::tanh, Activation::sigmoid}, Loss::bce, train::Init::xavier, 12),
       moons.X, data::encode(moons, Loss::bce, 1), {1.0, 0, 0.5, 0.5, 0.1, 0.02}}};
  for (const auto& p : problems) {
    s.section(p.tag == "convex" ? "1. Convex: logistic regression on two blobs (zero start)"
                                : "2. Non-convex: a 2-16-1 tanh network on the moons (Xavier start, seed 12)");
    const double budget = 300.0 * double(p.X.n_cols);  // 300 passes' worth of per-sample gradients
    std::printf("  %-14s %12s %14s %14s\n", "method", "step", "loss @ 10 ep.", "loss @ 300 ep.");
    std::map<std::string, double> final;  // method -> loss after the budget
    for (std::size_t k = 0; k < methods.size(); ++k) {
      const auto tr = run_method(methods[k], p.net, p.X, p.Y, budget, p.lr[k]);
      const arma::uword at10 = arma::uvec(arma::find(tr.evals >= 10.0 * double(p.X.n_cols), 1))(0);
      std::printf("  %-14s %12s %14.5f %14.5f\n", methods[k].c_str(),
                  methods[k] == "gd-linesearch" ? "1, halved" : lab::fmt(p.lr[k], 3).c_str(), tr.loss[at10], tr.loss.tail(1)(0));
      plot::write_table(s.id(), p.tag + "_" + methods[k] + ".csv", {"evals", "loss"}, {tr.evals, tr.loss});
      final[methods[k]] = tr.loss.tail(1)(0);
      if (methods[k] == "gd-linesearch")
        s.check(p.tag + ": the line search never increases the loss", arma::all(arma::diff(tr.loss) <= 1e-15));
      if (p.tag == "convex")
        s.check("convex: " + methods[k] + " ends below half the starting loss", tr.loss.tail(1)(0) < 0.5 * tr.loss[0]);
      else
        s.check("mlp: " + methods[k] + " decreases the loss", tr.loss.tail(1)(0) < tr.loss[0]);
    }
    if (p.tag == "mlp") {
      s.check("mlp: Adam ends below plain GD at equal gradient cost", final["adam"] < final["gd"]);
      s.check("mlp: gd-linesearch and sgd-1 stay on the plateau near 0.29 (end above 0.25)",
              final["gd-linesearch"] > 0.25 && final["sgd-1"] > 0.25);
      s.check("mlp: sgd-32, momentum and adam leave it (end below 0.1)",
              final["sgd-32"] < 0.1 && final["momentum"] < 0.1 && final["adam"] < 0.1);
    }
  }
  s.say("Per sample gradient, the stochastic methods make progress long before one full pass of GD\n"
        "has been paid for; GD's steps are exact but each costs m gradients.  On the MLP, GD with\n"
        "the line search and single-sample SGD with its decaying step stay on the plateau of a nearly\n"
        "linear fit (loss ~0.29) within this budget; minibatch SGD, momentum and Adam leave it.");

  s.section("3. The lectures' hinge-loss training: partial_loss = sum_{n in batch} relu(1 - y_n f(x_n))");
  const arma::mat Yh = data::encode(moons, Loss::hinge, 1);
  // The start of sections 3 to 5 (train::run trains a copy).
  const auto hnet = train::init_network<double>({2, 16, 1}, {Activation::relu, Activation::identity}, Loss::hinge, train::Init::he, 12);
  const auto be = make_backend<double>(BackendKind::matrix);
  train::Options o;
  o.optimizer = "sgd";
  o.lr = 0.05;
  o.batch = 16;
  o.epochs = 200;
  o.seed = 12;
  o.val_fraction = 0.2;
  const auto r = train::run<double>(hnet, moons.X, Yh, o);
  s.show("hinge loss after 200 epochs (training set)", r.history.back().train_loss);
  s.show("validation accuracy (sign of f)", r.history[std::size_t(r.best_epoch - 1)].val_acc);
  s.check("hinge-loss SGD separates the moons (validation accuracy > 0.95)", r.history[std::size_t(r.best_epoch - 1)].val_acc > 0.95);

  s.section("4. Why a loss function: the training error has no useful gradient");
  {
    s.say("The training error F(w) = sum_n 1_-(y_n f(x_n, w)) (1 when the sign is wrong) counts mistakes:\n"
          "a small move of w changes no sign, so F is piecewise constant and its gradient is 0 wherever\n"
          "it exists.  Gradient descent on it never moves.  The hinge loss sum_n relu(1 - y_n f(x_n, w))\n"
          "is a smooth-enough surrogate: near 0 when y f is large, large when y f is very negative.");
    const Network<double>& net = hnet;
    Cache<double> c;
    auto errors = [&](const Network<double>& n) {
      be->forward(n, moons.X, c);
      return double(arma::accu((Yh % c.A.back()) <= 0));
    };
    const arma::vec theta = flatten_params(net);
    const double F0 = errors(net);
    int moved = 0;
    for (arma::uword k = 0; k < theta.n_elem; ++k) {
      for (double hsign : {1e-6, -1e-6}) {
        arma::vec t = theta;
        t[k] += hsign * std::max(1.0, std::abs(t[k]));
        Network<double> n = net;
        set_params(n, t);
        moved += errors(n) != F0;
      }
    }
    s.show("training errors at the initial w (of 500)", F0);
    s.show("parameters whose +-1e-6 move changes the error count (of " + std::to_string(theta.n_elem) + ")", double(moved));
    s.check("the 0-1 error's central differences are 0 along every parameter: no descent direction", moved == 0);
    Grads<double> g;
    be->value_and_grad(net, moons.X, Yh, c, g);
    s.show("|gradient of the hinge loss| at the same w", arma::norm(g.flatten()));
    s.check("the hinge loss's gradient is not 0 there", arma::norm(g.flatten()) > 1e-3);
  }

  s.section("5. The lectures' SGD pseudo-code, run as written");
  {
    s.say("1. w = w0;  2. iter = 0;  3. draw n at random in 1..N;  4. partial_loss = relu(1 - y_n f(x_n, w));\n"
          "5. compute grad_w partial_loss;  6. w = w - lambda_iter grad;  7. iter = iter + 1;\n"
          "8. stop after 20000 iterations;  9. go to 3.   f: the 2-16-1 ReLU network of section 3,\n"
          "lambda_iter = 0.05 / (1 + iter/1000) (optim::decreasing_step), draws seeded 12.");
    Network<double> net = hnet;
    Cache<double> c;
    Grads<double> g;
    std::mt19937_64 rng(12);
    std::uniform_int_distribution<arma::uword> draw(0, moons.X.n_cols - 1);
    auto train_error = [&] {
      be->forward(net, moons.X, c);
      return arma::accu((Yh % c.A.back()) <= 0) / double(moons.X.n_cols);
    };
    const double e0 = train_error();
    for (long iter = 0; iter < 20000; ++iter) {
      const arma::uword n = draw(rng);
      be->value_and_grad(net, moons.X.col(n), Yh.col(n), c, g);  // partial_loss and its gradient
      const double lambda = optim::decreasing_step(0.05, 1e-3, double(iter));
      for (std::size_t l = 0; l < net.depth(); ++l) {
        net.layers[l].W -= lambda * g.dW[l];
        net.layers[l].b -= lambda * g.db[l];
      }
      if ((iter + 1) % 5000 == 0) std::printf("  iter %6ld: training error %.4f\n", iter + 1, train_error());
    }
    const double e1 = train_error();
    s.show("training error before", e0);
    s.check("after 20000 single-sample steps the training error is below 0.05", e1 < 0.05);
  }
  s.wrote(plot::render(s.id(), "sgd"));
  return s.finish();
}
