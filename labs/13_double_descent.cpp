// Lab 13 -- Double descent, small and fast: random ReLU features on n = 300 Fashion-MNIST
// images (10% of the labels replaced by random ones), the output layer by minimum-norm least
// squares, p from 10 to 20n.  The test error falls, rises to a peak near the interpolation
// threshold (the first p whose features fit the training set exactly, just above n), then
// falls again; the smallest singular value of the feature matrix going to 0 there is why;
// gradient descent from zero reaches the same minimum-norm fit.  Data: seed 13 (draw of the
// images, the noise and the features).
// Writes results/13_double_descent/{sweep,singular}.csv and double_descent.png.
#include "nnlab/methods/double_descent.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cmath>
#include <cstdio>
#include <thread>

using namespace nnlab;

int main() {
  lab::Sheet s("13_double_descent", "Double descent with random ReLU features");
  const std::size_t n = 300;
  dd::Split D = dd::dataset_split("fashion-mnist", n, 2000, 0, 13);
  dd::add_label_noise(D.Ytr, 0.1, 13);
  dd::Options o;
  for (double v : {10, 20, 40, 80, 120, 160, 200, 240, 270, 285, 300, 315, 330, 360, 420, 500, 650, 900, 1500, 2500,
                   4000, 6000})
    o.features.push_back(std::size_t(v));
  o.trials = 2;
  o.seed = 13;
  o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  s.section("1. The sweep: training and test error against the number of features p");
  s.say("phi(x) = relu(V x + c), V_ij ~ N(0, 1/784), c_i ~ N(0, 1); W = argmin ||Phi' W' - Y'|| with the\n"
        "smallest norm (SVD, LAPACK dgesdd); n = 300 training images, 2000 test images, 2 trials.");
  const auto pts = dd::sweep(D, o);
  std::printf("\n  %7s %12s %12s %10s %12s %12s\n", "p", "train_mse", "test_mse", "test_err", "|W|", "condition");
  std::size_t peak = 0;
  arma::vec P(pts.size()), tr(pts.size()), te(pts.size()), er(pts.size()), wn(pts.size()), cond(pts.size());
  for (std::size_t j = 0; j < pts.size(); ++j) {
    const auto& p = pts[j];
    std::printf("  %7zu %12.4e %12.4e %10.4f %12.4e %12.4e\n", p.features, p.train_mse, p.test_mse, p.test_error,
                p.weight_norm, p.condition);
    if (p.test_mse > pts[peak].test_mse) peak = j;
    P[j] = double(p.features); tr[j] = p.train_mse; te[j] = p.test_mse; er[j] = p.test_error; wn[j] = p.weight_norm;
    cond[j] = p.condition;
  }
  std::size_t interp = pts.size() - 1;  // the first p whose training MSE is 0 to round-off, and every larger one
  while (interp > 0 && tr[interp - 1] < 1e-20) --interp;
  s.show("p at the peak of the test MSE (mean of 2 trials)", P[peak]);
  s.show("the interpolation threshold: the first p with training MSE 0 (to round-off)", P[interp]);
  s.say("With the output bias the features are centred, so exact fits need rank n - 1 = 299; a ReLU\n"
        "feature that is 0 on every training image adds nothing, which puts the threshold a little\n"
        "above n: at p = 300 the training MSE is still " + lab::fmt(tr[arma::uword(arma::index_min(arma::abs(P - double(n))))], 2) +
        ".  The peak sits just below it, where\n"
        "the smallest singular values of the features are smallest (next section).");
  s.check("the interpolation threshold is between n and 1.1 n", P[interp] >= n && P[interp] <= 1.1 * n);
  s.check("the peak is within [0.8 n, the threshold]", P[peak] >= 0.8 * n && P[peak] <= P[interp]);
  s.check("the second descent: the test MSE at p = 20 n is over 3x below the peak", te.tail(1)(0) * 3 < te[peak]);
  s.check("from the threshold on, the training error is 0 (interpolation)", arma::all(tr.tail(pts.size() - interp) < 1e-20));
  s.check("the weight norm is largest at the peak", wn.index_max() == peak);
  const arma::uword first_min = arma::vec(te.head(peak)).index_min();
  s.say("Below the threshold the curve has the old paradigm's U shape (Vapnik-Chervonenkis: too few\n"
        "parameters cannot learn, too many learn by heart): its minimum is at p = " + lab::fmt(P[first_min], 4) +
        "; the second descent\n"
        "beyond the threshold goes lower still, at p = 20 n.");
  s.check("a U below the threshold: its minimum is below both p = 10 and the peak",
          te[first_min] < te[0] && te[first_min] < te[peak] && first_min > 0);
  s.check("the second descent ends below the first minimum", te.tail(1)(0) < te[first_min]);
  s.wrote(plot::write_table(s.id(), "sweep.csv", {"features", "train_mse", "test_mse", "test_error", "weight_norm", "condition"},
                            {P, tr, te, er, wn, cond}));

  s.section("2. Why: the smallest singular value of Phi' (n x p) goes to 0 near p = n");
  s.say("W' = V diag(1/s_i) U'Y': the fit divides by every singular value.  For p << n or p >> n the\n"
        "feature matrix is well conditioned; at p = n it is square and random, and its smallest\n"
        "singular value is near 0, so |W| and the test error explode.  (With p > n, the extra\n"
        "directions make the smallest non-zero singular value grow again.)");
  dd::Split Z = D;
  dd::normalize_inputs(Z);  // as the sweep does
  arma::vec sp, smin, smax;
  for (double v : {50, 150, 250, 290, 300, 310, 350, 450, 600, 1200, 3000}) {
    const auto m = dd::fit_model(Z.Xtr, Z.Ytr, std::size_t(v), 0, 99);
    const double tol = double(std::max<std::size_t>(n, std::size_t(v))) * 2.2e-16 * m.s.max();
    const arma::vec nz = m.s.elem(arma::find(m.s > tol));
    sp.resize(sp.n_elem + 1); sp(sp.n_elem - 1) = v;
    smin.resize(smin.n_elem + 1); smin(smin.n_elem - 1) = nz.min();
    smax.resize(smax.n_elem + 1); smax(smax.n_elem - 1) = nz.max();
    std::printf("  p = %5.0f: rank %4zu, smallest non-zero singular value %.3e, largest %.3e\n", v,
                std::size_t(nz.n_elem), nz.min(), nz.max());
  }
  s.check("the smallest singular value is smallest at p = n (among the p shown)", sp[smin.index_min()] == double(n));
  s.say("(The output bias is fitted by centring the features, which removes one dimension, and a\n"
        "feature dead on every image removes another: where exactly the rank reaches n - 1 depends on\n"
        "the draw: the sweep's draws fit exactly from p = " + lab::fmt(P[interp], 4) + " on.)");
  s.wrote(plot::write_table(s.id(), "singular.csv", {"features", "s_min", "s_max"}, {sp, smin, smax}));

  s.section("3. Where the minimum-norm fit comes from, and what the notes claim");
  {
    s.say("Gradient descent on ||W Phi_c - Y_c||^2 started from W = 0 only ever adds combinations of\n"
          "the rows of Phi_c' to W, so among the infinitely many exact fits (p > n) it converges to the\n"
          "one of minimum norm: the fit above.  On 40 of the images with p = 80 features:");
    const arma::mat Xs = Z.Xtr.head_cols(40), Ys = Z.Ytr.head_cols(40);
    const auto mdl = dd::fit_model(Xs, Ys, 80, 0, 7);
    const arma::mat Ph = dd::features(mdl, Xs);
    const arma::mat Pc = Ph.each_col() - arma::mean(Ph, 1), Yc = Ys.each_col() - arma::mean(Ys, 1);
    const double smax = arma::norm(Pc, 2);
    arma::mat W(Ys.n_rows, 80, arma::fill::zeros);
    int it = 0;
    for (; it < 200000; ++it) {
      const arma::mat G = (W * Pc - Yc) * Pc.t();
      W -= G / (smax * smax);
      if (arma::norm(G, "fro") < 1e-13 * arma::norm(Yc * Pc.t(), "fro")) break;
    }
    const double rel = arma::norm(W - mdl.W, "fro") / arma::norm(mdl.W, "fro");
    s.show("gradient descent iterations (step 1/s_max^2)", double(it));
    s.show("||W_gd - W_min-norm|| / ||W_min-norm||", rel);
    s.check("gradient descent from 0 reaches the minimum-norm fit (1e-8)", rel < 1e-8);
    s.say("The notes call double descent a phenomenon observed in some experiments on a bounded\n"
          "domain, not a truth, and put it down to how networks are trained, by (stochastic) gradient\n"
          "descent.  Here there is no network training at all: only a least-squares fit, whose\n"
          "minimum-norm choice is the one gradient descent from zero would make.  A ridge chosen on a\n"
          "validation set (experiments/double_descent.sh) removes the peak: it is a property of this\n"
          "fit, not a law.");
  }
  s.wrote(plot::render(s.id(), "double_descent"));
  return s.finish();
}
