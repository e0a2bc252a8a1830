// Lab 11 -- ReLU universality and memorization, and why memorization alone is useless.
//   |x| = relu(x) + relu(-x);  ||x||_1 = 1' relu([I; -I] x);  ||x - q||_1;  the pseudo-dirac
//   g_q(x) = relu(1 - ||x - q||_1);  f(x) = sum_n y_n g_{x_n}(x) memorises any N distinct
//   integer points with 2ND + N + 1 neurons;  Zhang et al.'s leaner one hidden layer of N units.
// Then the point of the lecture: the memoriser has zero training error and chance-level test
// error; a small trained network generalises.
// Data: lattice points of [-10, 10]^2, label +1 inside the circle x1^2 + x2^2 < 64, else -1 (46% of the points);
// 80 training and the other 361 points for test, drawn with seed 11.
// Writes results/11_relu_universality/{bumps,trained}.csv, counts.csv and bumps.png.
#include "nnlab/backends/backend.hpp"
#include "common/sheet.hpp"
#include "nnlab/methods/optim.hpp"
#include "common/plot.hpp"
#include "nnlab/methods/relu_constructions.hpp"

#include <cstdio>
#include <random>

using namespace nnlab;
using namespace nnlab::relu;

namespace {
arma::rowvec eval(const Network<double>& net, const arma::mat& X, BackendKind k = BackendKind::matrix) {
  Cache<double> c;
  make_backend<double>(k)->forward(net, X, c);
  return c.A.back().row(0);
}
}  // namespace

int main() {
  lab::Sheet s("11_relu_universality", "ReLU universality, memorization, and generalization");

  s.section("1. Building blocks, exact on integers, on every backend");
  const arma::mat xs = arma::regspace(-5, 5).t();
  for (BackendKind k : kAllBackends)
    s.check(std::string("|x| = relu(x) + relu(-x), x = -5..5, ") + std::string(name(k)) + " backend",
            arma::all(eval(abs_net(), xs, k) == arma::abs(xs)));
  arma::mat grid(2, 121);
  for (int i = 0, k = 0; i <= 10; ++i)
    for (int j = 0; j <= 10; ++j, ++k) { grid(0, k) = i - 5; grid(1, k) = j - 5; }
  const arma::vec q = {2, -1};
  const arma::rowvec d = arma::sum(arma::abs(grid.each_col() - q), 0);
  s.check("||x||_1 with 2D + 1 = 5 neurons on the 11 x 11 grid", arma::all(eval(l1_norm_net(2), grid) == arma::sum(arma::abs(grid), 0)));
  s.check("||x - q||_1, q = (2, -1): biases (-q, q)", arma::all(eval(l1_dist_net(q), grid) == d));
  const arma::rowvec gq = eval(pseudo_dirac_net(q), grid);
  s.check("g_q(q) = 1", arma::accu(gq) == 1.0 && arma::max(gq) == 1.0);
  s.check("g_q = 0 wherever ||x - q||_1 >= 1", arma::all(gq.elem(arma::find(d >= 1)) == 0));

  s.section("2. Memorization: f(x) = sum_n y_n relu(1 - ||x - x_n||_1)");
  // The data: all lattice points of [-10, 10]^2, shuffled with seed 11.
  std::vector<arma::vec> pts;
  for (int i = -10; i <= 10; ++i)
    for (int j = -10; j <= 10; ++j) pts.push_back({double(i), double(j)});
  std::mt19937_64 rng(11);
  std::shuffle(pts.begin(), pts.end(), rng);
  const std::size_t Ntr = 80, Nte = pts.size() - Ntr;
  arma::mat Xtr(2, Ntr), Xte(2, Nte);
  for (std::size_t n = 0; n < pts.size(); ++n) (n < Ntr ? Xtr.col(n) : Xte.col(n - Ntr)) = pts[n];
  auto label = [](const arma::mat& X) {
    return arma::rowvec(arma::conv_to<arma::rowvec>::from(arma::sum(arma::square(X), 0) < 64) * 2 - 1);
  };
  const arma::rowvec ytr = label(Xtr), yte = label(Xte);
  const auto mem = memorize_net(Xtr.t(), ytr.t());
  s.show("N (training points)", double(Ntr));
  s.show("D (dimension)", double(Xtr.n_rows));
  s.show("neurons of the memoriser (2ND + N + 1 = 401)", double(mem.n_neurons()));
  s.check("2ND + N + 1 neurons", mem.n_neurons() == 2 * Ntr * 2 + Ntr + 1);
  for (BackendKind k : kAllBackends)
    s.check(std::string("f(x_n) = y_n exactly on the training set, ") + std::string(name(k)),
            arma::all(eval(mem, Xtr, k) == ytr));
  auto err = [](const arma::rowvec& f, const arma::rowvec& y) {  // share misclassified by sign(f), sign(0) = +1
    double e = 0;
    for (arma::uword i = 0; i < f.n_elem; ++i) e += (f[i] >= 0 ? 1.0 : -1.0) != y[i];
    return e / double(f.n_elem);
  };
  const arma::rowvec fte = eval(mem, Xte);
  s.show("memoriser: training error", err(eval(mem, Xtr), ytr));
  s.show("memoriser: test error", err(fte, yte));
  s.show("share of test points where f = 0 exactly", arma::mean(arma::conv_to<arma::rowvec>::from(fte == 0)));
  s.show("share p of +1 among test labels (always answering +1 errs on 1 - p)",
         arma::mean(arma::conv_to<arma::rowvec>::from(yte > 0)));
  s.check("memoriser: zero training error", err(eval(mem, Xtr), ytr) == 0);
  s.check("memoriser: f = 0 on every unseen lattice point (all at L1 distance >= 1)", arma::all(fte == 0));
  const double p_plus = arma::mean(arma::conv_to<arma::rowvec>::from(yte > 0));
  s.check("memoriser: test error no better than a constant answer (min(p, 1 - p) = " + lab::fmt(std::min(p_plus, 1 - p_plus), 3) + ")",
          err(fte, yte) >= std::min(p_plus, 1 - p_plus) - 1e-12);

  s.section("3. A small trained network generalises");
  s.say("2-16-1, tanh then identity, mse on the +-1 labels, Adam (lr 0.02), 3000 full-batch steps,\n"
        "initialised with seed 11.  Inputs scaled by 1/10.");
  Network<double> net = random_network<double>({2, 16, 1}, {Activation::tanh, Activation::identity}, Loss::mse, 11, 0.8);
  auto be = make_backend<double>(BackendKind::matrix);
  optim::Adam<double> adam(0.02);
  Cache<double> c;
  Grads<double> g;
  const arma::mat Xs = Xtr / 10;
  for (int it = 0; it < 3000; ++it) {
    be->value_and_grad(net, Xs, ytr, c, g);
    adam.update(net, g);
  }
  const double tr_err = err(eval(net, Xtr / 10), ytr), te_err = err(eval(net, Xte / 10), yte);
  s.show("trained: training error", tr_err);
  s.show("trained: test error", te_err);
  s.show("trained: neurons", double(net.n_neurons()));
  s.check("the trained network's test error is below 0.15 (the memoriser's is ~0.5)", te_err < 0.15);

  s.section("4. Zhang et al. (2017): one hidden layer of N units, 2N + D weights");
  const auto z = zhang_net(Xtr.t(), ytr.t(), 11);
  const double zerr = arma::norm(eval(z.net, Xtr) - ytr, "inf");
  s.show("max_n |f(x_n) - y_n|", zerr);
  s.check("Zhang et al.'s network fits every training label to 1e-9", zerr <= 1e-9);
  s.say("Neurons and free weights of the two constructions:");
  std::printf("  %6s %4s %16s %16s %16s %16s\n", "N", "D", "lecture neurons", "lecture weights", "Zhang neurons",
              "Zhang weights");
  arma::vec cn, cd, ln, lw, zn, zw;
  for (double Nn : {10.0, 100.0, 1000.0, 10000.0})
    for (double Dd : {2.0, 10.0, 784.0}) {
      // lecture: 2ND + N + 1 neurons; nonzero weights 2ND (W1) + 2ND (b1) + 2ND (W2) + N (b2) + N (W3)
      const double lneu = 2 * Nn * Dd + Nn + 1, lwt = 6 * Nn * Dd + 2 * Nn;
      const double zneu = Nn + 1, zwt = 2 * Nn + Dd;
      std::printf("  %6.0f %4.0f %16.4g %16.4g %16.4g %16.4g\n", Nn, Dd, lneu, lwt, zneu, zwt);
      cn.resize(cn.n_elem + 1); cn(cn.n_elem - 1) = Nn;
      cd.resize(cd.n_elem + 1); cd(cd.n_elem - 1) = Dd;
      ln.resize(ln.n_elem + 1); ln(ln.n_elem - 1) = lneu;
      lw.resize(lw.n_elem + 1); lw(lw.n_elem - 1) = lwt;
      zn.resize(zn.n_elem + 1); zn(zn.n_elem - 1) = zneu;
      zw.resize(zw.n_elem + 1); zw(zw.n_elem - 1) = zwt;
    }
  s.wrote(plot::write_table(s.id(), "counts.csv", {"N", "D", "lecture_neurons", "lecture_weights", "zhang_neurons",
                                                   "zhang_weights"}, {cn, cd, ln, lw, zn, zw}));
  s.say("Both memorise anything; neither says anything about unseen points.  The lecture's\n"
        "network answers 0 off its bumps; Zhang's interpolates along one random direction.");

  s.section("5. The picture: the memoriser's bumps and the trained network's decision function");
  const arma::vec t = arma::regspace(-10.5, 0.1, 10.5);
  arma::mat G(2, t.n_elem * t.n_elem);
  for (arma::uword i = 0, k = 0; i < t.n_elem; ++i)
    for (arma::uword j = 0; j < t.n_elem; ++j, ++k) { G(0, k) = t[i]; G(1, k) = t[j]; }
  const arma::rowvec fb = eval(mem, G), ft = eval(net, G / 10);
  s.wrote(plot::write_table(s.id(), "bumps.csv", {"x1", "x2", "memoriser", "trained"},
                            {arma::vec(G.row(0).t()), arma::vec(G.row(1).t()), arma::vec(fb.t()), arma::vec(ft.t())}));
  s.wrote(plot::write_table(s.id(), "train_points.csv", {"x1", "x2", "y"},
                            {arma::vec(Xtr.row(0).t()), arma::vec(Xtr.row(1).t()), arma::vec(ytr.t())}));
  s.wrote(plot::render(s.id(), "bumps"));
  return s.finish();
}
