// Lab 14 -- Ensembles: K random-feature models, drawn independently and fitted on the same
// data, averaged in prediction.  The test error of the average against K; the variance part
// of the test MSE shrinking like 1/K (mse(K) = bias part + variance part / K); the ensembled
// double-descent curve, whose peak is damped.  Data: n = 300 Fashion-MNIST images, 10% label
// noise, 2000 test images, seed 14.  Writes results/14_ensembles/{vs_k,curve}.csv, ensembles.png.
#include "nnlab/methods/double_descent.hpp"
#include "nnlab/methods/separation.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cstdio>
#include <thread>

using namespace nnlab;

int main() {
  lab::Sheet s("14_ensembles", "Ensembles of random-feature models");
  const std::size_t n = 300;
  dd::Split D = dd::dataset_split("fashion-mnist", n, 2000, 0, 14);
  dd::add_label_noise(D.Ytr, 0.1, 14);
  dd::normalize_inputs(D);  // as the sweep does

  s.section("1. At p = 0.9 n = 270: the average of K models against K");
  const std::size_t p = 270, Kmax = 32;
  std::vector<arma::mat> preds;
  for (std::size_t k = 0; k < Kmax; ++k) {
    preds.push_back(dd::predict(dd::fit_model(D.Xtr, D.Ytr, p, 0, 1000 + k), D.Xte));
  }
  arma::vec Ks = {1, 2, 4, 8, 16, 32}, mse(Ks.n_elem), err(Ks.n_elem);
  std::printf("  %4s %12s %10s\n", "K", "test_mse", "test_err");
  for (arma::uword i = 0; i < Ks.n_elem; ++i) {
    // average over the Kmax/K disjoint groups of K models, to smooth the estimate
    const std::size_t K = std::size_t(Ks[i]), groups = Kmax / K;
    double ms = 0, es = 0;
    for (std::size_t gidx = 0; gidx < groups; ++gidx) {
      const auto first = preds.begin() + std::ptrdiff_t(gidx * K);
      const arma::mat avg = dd::ensemble_average({first, first + std::ptrdiff_t(K)});
      ms += dd::mse(avg, D.Yte) / double(groups);
      es += dd::class_error(avg, D.Yte) / double(groups);
    }
    mse[i] = ms;
    err[i] = es;
    std::printf("  %4.0f %12.4e %10.4f\n", Ks[i], ms, es);
  }
  // Fit mse(K) = a + b/K by least squares.
  const arma::mat A = arma::join_rows(arma::ones(Ks.n_elem), 1 / Ks);
  const arma::vec ab = arma::solve(A, mse);
  const double resid = arma::norm(A * ab - mse) / arma::norm(mse);
  s.show("fit mse(K) = a + b/K: a (the mean model's error)", ab[0]);
  s.show("b (the variance of one model)", ab[1]);
  s.show("relative residual of the fit", resid);
  s.check("the test error of the average falls with K (K = 32 below K = 1 by 0.1 or more)", err.tail(1)(0) <= err[0] - 0.1);
  s.check("the variance part shrinks like 1/K: mse(K) = a + b/K fits to 10%", resid < 0.1 && ab[1] > 0);
  s.wrote(plot::write_table(s.id(), "vs_k.csv", {"K", "test_mse", "test_error", "fit"}, {Ks, mse, err, arma::vec(A * ab)}));

  s.section("2. The ensembled double-descent curve (K = 8) against single models");
  dd::Split R = dd::dataset_split("fashion-mnist", n, 2000, 0, 14);
  dd::add_label_noise(R.Ytr, 0.1, 14);
  dd::Options o;
  for (double v : {20, 60, 120, 200, 240, 270, 300, 330, 360, 450, 650, 1200, 3000, 6000}) o.features.push_back(std::size_t(v));
  o.trials = 2;
  o.ensemble = 8;
  o.seed = 14;
  o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  const auto pts = dd::sweep(R, o);
  arma::vec P(pts.size()), se(pts.size()), ee(pts.size()), sm(pts.size()), em(pts.size());
  std::printf("\n  %6s %12s %12s %10s %10s\n", "p", "single_mse", "ens8_mse", "single_err", "ens8_err");
  for (std::size_t j = 0; j < pts.size(); ++j) {
    P[j] = double(pts[j].features); sm[j] = pts[j].test_mse; em[j] = pts[j].ens_test_mse;
    se[j] = pts[j].test_error; ee[j] = pts[j].ens_test_error;
    std::printf("  %6.0f %12.4e %12.4e %10.4f %10.4f\n", P[j], sm[j], em[j], se[j], ee[j]);
  }
  s.check("the ensemble damps the peak: its largest test MSE is 3x below the single model's", em.max() * 3 < sm.max());
  s.check("near the threshold (p = 270, 330) the ensemble errs at least 0.1 less",
          ee[5] <= se[5] - 0.1 && ee[7] <= se[7] - 0.1);
  s.wrote(plot::write_table(s.id(), "curve.csv", {"features", "single_mse", "ensemble_mse", "single_error", "ensemble_error"},
                            {P, sm, em, se, ee}));

  s.section("3. What the notes say of ensembles, in numbers");
  {
    s.say("'Averaging K models tends to the performance of a mean model w*; w* is not optimal, just mean.'\n"
          "At p = 270 the limit K -> infinity of section 1 is a (the fitted constant); one model with many\n"
          "more features, from section 2's sweep, does better:");
    s.show("a, the error of the mean model at p = 270", ab[0]);
    s.show("test MSE of one model at p = 6000", sm.back());
    s.check("the mean model is not the best model: a > one p = 6000 model's test MSE", ab[0] > sm.back());
    s.say("'For the SVM, whose training is deterministic, w_1 = ... = w_K = w*': four SVMs fitted to the\n"
          "same points are the same bits, and their average is each of them.  The random-feature models\n"
          "differ only because each draws its own features.");
    const arma::mat Xs = {{0, 0}, {1, 0.5}, {0.2, 1.5}, {2, 2}, {2.5, 1}, {3, 2.5}};
    const arma::vec ys = {-1, -1, -1, 1, 1, 1};
    const auto s0 = sep::svm_exact(Xs, ys);
    bool same = true;
    for (int k = 1; k < 4; ++k) {
      const auto sk = sep::svm_exact(Xs, ys);
      same = same && arma::all(sk.w == s0.w) && sk.b == s0.b;
    }
    s.check("four SVM fits on the same data give identical w and b", same);
    s.say("'K networks of Q neurons are not one network of KQ neurons': 8 models of 40 features averaged,\n"
          "against one model of 320 (near its interpolation threshold):");
    std::vector<arma::mat> members;
    for (std::size_t k = 0; k < 8; ++k) members.push_back(dd::predict(dd::fit_model(D.Xtr, D.Ytr, 40, 0, 2000 + k), D.Xte));
    const double ens = dd::mse(dd::ensemble_average(members), D.Yte);
    const double one = dd::mse(dd::predict(dd::fit_model(D.Xtr, D.Ytr, 320, 0, 3000), D.Xte), D.Yte);
    s.show("8 x 40 features, averaged: test MSE", ens);
    s.show("1 x 320 features: test MSE", one);
    s.check("the two differ by over a factor 2 (the same number of features, not the same model)",
            std::max(ens, one) > 2 * std::min(ens, one));
    s.check("adding members lowered the test MSE at every K of section 1 (no overfitting from K)",
            arma::all(arma::diff(mse) < 0));
    s.say("The number of models adds no capacity; the capacity of each one does (the 320-feature model\n"
          "sits at its interpolation threshold).  The notes' explanation of double descent -- a network of\n"
          "H neurons would behave as K sub-networks of H/K suited to the problem -- is put as a question\n"
          "there ('?!?'), and no lab here tests it.");
  }
  s.wrote(plot::render(s.id(), "ensembles"));
  return s.finish();
}
