// Lab 09 -- The lectures' exercise: a neuron g(x; w, b) = sigma(w.x + b) fitted to K points
// by least squares, min f(beta) = 0.5 ||r(beta)||^2, r_k = y_k - sigma(w.x_k + b).
// Gauss-Newton, Levenberg-Marquardt and gradient descent from the same start; the identity
// neuron as linear least squares; QR against the normal equations; then a whole network.
//
// Data (written down so anyone can regenerate it): K = 40 points x_k ~ U[-2, 2]^2 and
// beta* = (w1, w2, b) = (1.5, -2, 0.5), arma seed 9; y = sigma(w*.x + b*) exactly
// ("zero residual"), and y + 0.05 N(0,1) with the same seed ("noisy").
// Writes results/09_gauss_newton_neuron/{exact,noisy}_<method>.csv and convergence.png.
#include "nnlab/backends/backend.hpp"
#include "common/sheet.hpp"
#include "nnlab/methods/lsq.hpp"
#include "common/plot.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

using namespace nnlab;
using namespace nnlab::lsq;

int main() {
  lab::Sheet s("09_gauss_newton_neuron", "Least squares for one neuron: Gauss-Newton, LM, gradient descent");
  const std::size_t K = 40;
  arma::arma_rng::set_seed(9);
  const arma::mat X = 4 * arma::randu(K, 2) - 2;
  const arma::vec truth = {1.5, -2.0, 0.5};
  const arma::mat Xa = arma::join_rows(X, arma::ones(K));
  arma::vec y_exact = 1 / (1 + arma::exp(-Xa * truth));
  const arma::vec y_noisy = y_exact + 0.05 * arma::randn(K);

  s.section("1. The problem");
  s.say("r_k = y_k - sigma(w.x_k + b),  f = 0.5 sum_k r_k^2,  grad f = J' r,\n"
        "J = dr/dbeta: K x 3 with rows -sigma'(w.x_k + b) [x_k', 1].\n"
        "Gauss-Newton replaces r(beta + delta) by r + J delta and solves min ||r + J delta||:\n"
        "delta = -J \\ r, by QR on J (LAPACK dgels).  Levenberg-Marquardt adds lambda diag(J'J)\n"
        "to J'J and adapts lambda by the gain ratio rho = actual / predicted decrease.");

  s.section("2. sigma = Id: linear least squares in one step");
  arma::vec y_lin = Xa * truth + 0.05 * arma::randn(K);
  const arma::vec ls = linear_least_squares(X, y_lin);
  NeuronProblem lin(X, y_lin, Activation::identity);
  arma::vec beta = {10.0, 10.0, -10.0};  // any start
  Options one;
  one.max_iterations = 1;
  solve(lin, beta, one);
  s.show("LAPACK least squares [X 1] \\ y", arma::mat(ls.t()), 12);
  s.show("one Gauss-Newton step from (10, 10, -10)", arma::mat(beta.t()), 12);
  s.check("one step lands on the LAPACK solution (1e-12)", arma::norm(beta - ls, "inf") <= 1e-12);
  const double cJ = arma::cond(Xa);
  s.show("cond(J) = cond([X 1])", cJ);
  s.show("cond(J'J)", arma::cond(Xa.t() * Xa));
  s.check_close("cond(J'J) = cond(J)^2", arma::cond(Xa.t() * Xa), cJ * cJ, 1e-8);
  s.say("Solving the normal equations J'J delta = -J'r squares the condition number.  With two\n"
        "nearly collinear inputs (x2 = x1 + 1e-6 noise) the difference shows:");
  {
    arma::mat Xc(K, 2);
    Xc.col(0) = X.col(0);
    Xc.col(1) = X.col(0) + 1e-6 * arma::randn(K);
    const arma::vec yc = arma::join_rows(Xc, arma::ones(K)) * truth;
    NeuronProblem ill(Xc, yc, Activation::identity);
    arma::vec qr(3, arma::fill::zeros), ne(3, arma::fill::zeros);
    solve(ill, qr, one);
    Options n1 = one;
    n1.method = Method::gauss_newton_normal;
    solve(ill, ne, n1);
    s.show("cond(J)", arma::cond(ill.augmented()));
    s.show("error of QR              |beta - beta*|", arma::norm(qr - truth, "inf"));
    s.show("error of normal equations |beta - beta*|", arma::norm(ne - truth, "inf"));
    s.check("QR keeps ~6 more digits here", arma::norm(ne - truth, "inf") > 1e3 * arma::norm(qr - truth, "inf"));
  }
  s.say("Exactly collinear: a second input that is 1 for every sample, the bias's twin.  J has\n"
        "rank 3 of 4, every (w2, b) with w2 + b = const fits equally well, and QR refuses J.\n"
        "Gauss-Newton then takes the step of least norm, delta = -J^+ r (SVD; singular values\n"
        "below max(K, P) eps s_max count as zero): from 0 it lands on pinv([X 1]) y, which splits\n"
        "the shared coefficient equally between w2 and b.");
  {
    arma::mat Xt = arma::join_rows(X.col(0), arma::ones(K), X.col(1));  // inputs x1, 1, x2
    const arma::vec yt = Xa * truth + 0.05 * arma::randn(K);
    NeuronProblem twin(Xt, yt, Activation::identity);
    arma::vec b0(4, arma::fill::zeros);
    const auto sum = solve(twin, b0, one);
    const arma::vec pinv_sol = arma::pinv(twin.augmented()) * yt;
    s.show("rank of J = [x1 1 x2 1]", double(arma::rank(twin.augmented())));
    s.show("one least-norm GN step from 0 (w1, w2, w3, b)", arma::mat(b0.t()), 12);
    s.show("pinv([X 1]) y", arma::mat(pinv_sol.t()), 12);
    s.check("the step was the least-norm one (QR refused the rank-deficient J)", sum.history.at(1).min_norm);
    s.check("one step lands on pinv([X 1]) y (1e-12)", arma::norm(b0 - pinv_sol, "inf") <= 1e-12 * arma::norm(pinv_sol, "inf"));
    s.check_close("w2 = b: the twin coefficients share 0.5 equally", b0[1], b0[3], 1e-12);
    s.check_close("w2 + b = the true bias 0.5 (to the noise)", b0[1] + b0[3], truth[2], 0.1);
  }

  s.section("3. The sigmoid neuron from beta = 0, four methods");
  struct M { Method m; const char* file; };
  const M methods[] = {{Method::gauss_newton, "gn"}, {Method::levenberg_marquardt, "lm"},
                       {Method::gradient_descent, "gd"}, {Method::gradient_descent_ls, "gdls"}};
  for (const char* cas : {"exact", "noisy"}) {
    const arma::vec& y = std::string(cas) == "exact" ? y_exact : y_noisy;
    NeuronProblem p(X, y, Activation::sigmoid);
    std::printf("\n  --- %s data ---\n", cas);
    double f_gn = 0;
    int gn_reach = 0;
    for (const auto& m : methods) {
      arma::vec b(3, arma::fill::zeros);
      Options o;
      o.method = m.m;
      o.max_iterations = (m.m == Method::gradient_descent || m.m == Method::gradient_descent_ls) ? 400 : 50;
      o.step = 0.5;  // fixed step for gradient descent (stable here: 0.5 < 2 / L)
      const auto sum = solve(p, b, o);
      if (m.m == Method::gauss_newton) f_gn = sum.final_cost;
      std::printf("\n  %s:\n", name(m.m).c_str());
      if (sum.history.size() <= 16) {
        std::cout << sum.table();
      } else {  // long gradient-descent runs: the first and last iterations
        Summary shown = sum;
        shown.history.assign(sum.history.begin(), sum.history.begin() + 6);
        shown.history.insert(shown.history.end(), sum.history.end() - 4, sum.history.end());
        std::cout << shown.table() << "  (" << sum.history.size() - 10 << " iterations not shown)\n";
      }
      // excess = f - f* with f* the Gauss-Newton minimum (0 for exact data), floored at 1e-17.
      const double fstar = std::string(cas) == "exact" ? 0.0 : f_gn;
      arma::vec it(sum.history.size()), cost(sum.history.size()), excess(sum.history.size());
      for (std::size_t i = 0; i < sum.history.size(); ++i) {
        it[i] = sum.history[i].iter;
        cost[i] = sum.history[i].cost;
        excess[i] = std::max(cost[i] - fstar, 1e-17);
      }
      plot::write_table(s.id(), std::string(cas) + "_" + m.file + ".csv", {"iter", "cost", "excess"}, {it, cost, excess});
      if (std::string(cas) == "exact" && (m.m == Method::gauss_newton || m.m == Method::levenberg_marquardt)) {
        s.check(name(m.m) + ": cost < 1e-20 within 15 iterations", sum.final_cost < 1e-20 && sum.iterations <= 15);
        s.check(name(m.m) + ": recovers beta* to 1e-9", arma::norm(b - truth, "inf") < 1e-9);
      }
      if (std::string(cas) == "noisy" && m.m == Method::levenberg_marquardt)
        s.check_close("noisy: LM reaches the GN minimum", sum.final_cost, f_gn, 1e-12);
      // Iterations to come within 1e-8 (relative) of the final GN cost (or of 1e-20 when exact).
      const double target = std::string(cas) == "exact" ? 1e-20 : f_gn * (1 + 1e-8);
      int reach = -1;
      for (const auto& h : sum.history) if (reach < 0 && h.cost <= target) reach = h.iter;
      std::printf("  iterations to reach %s: %s\n", std::string(cas) == "exact" ? "cost 1e-20" : "the GN minimum (1e-8 rel.)",
                  reach < 0 ? "not within the run" : std::to_string(reach).c_str());
      if (m.m == Method::gauss_newton) gn_reach = reach;
      if (m.m == Method::gradient_descent_ls)
        s.check(std::string(cas) + ": gradient descent (line search) needs over 5x the iterations of GN",
                reach < 0 || reach > 5 * gn_reach);
    }
  }
  s.say("\nZero residual: Gauss-Newton converges quadratically (the residual norm is squared each\n"
        "step: 1e-2, 1e-4, 1e-8, ...).  With noise the Hessian has a second-order term sum r_k\n"
        "r_k'' that Gauss-Newton ignores, so convergence is linear, fast when the residuals are small.");
  s.wrote(plot::render(s.id(), "convergence"));

  s.section("4. The same machinery on a network: n = [4, 2, 5, 3, 1], sigmoid everywhere");
  s.say("Residual Jacobian with respect to all 47 parameters, one row per sample, each row from one\n"
        "backward pass (Backend::vjp).  Data: a teacher network of the same shape (seed 41),\n"
        "K = 100 inputs ~ N(0,1) (arma seed 41); start: another random network (seed 42).");
  {
    const std::vector<Activation> sig(4, Activation::sigmoid);
    const auto teacher = random_network<double>({4, 2, 5, 3, 1}, sig, Loss::mse, 41, 2.0);
    arma::arma_rng::set_seed(41);
    const arma::mat Xn = arma::randn(4, 100);
    Cache<double> c;
    make_backend<double>(BackendKind::naive)->forward(teacher, Xn, c);
    const auto start = random_network<double>({4, 2, 5, 3, 1}, sig, Loss::mse, 42, 1.0);
    NetworkProblem p(start, Xn, c.A.back().row(0).t());
    std::printf("  %-34s %14s %14s %14s\n", "method", "cost after 10", "after 40", "status");
    double lm = 0, gd = 0;
    for (auto m : {Method::levenberg_marquardt, Method::gauss_newton, Method::gradient_descent_ls}) {
      Options o;
      o.method = m;
      o.max_iterations = 10;
      arma::vec th = flatten_params(start);
      const double c10 = solve(p, th, o).final_cost;
      th = flatten_params(start);
      o.max_iterations = 40;
      const auto sum = solve(p, th, o);
      std::printf("  %-34s %14.4e %14.4e %14s\n", name(m).c_str(), c10, sum.final_cost, name(sum.status).c_str());
      if (m == Method::levenberg_marquardt) lm = sum.final_cost;
      if (m == Method::gradient_descent_ls) gd = sum.final_cost;
    }
    s.check("LM ends 1000x below gradient descent after 40 iterations", lm < 1e-3 * gd);
    s.say("Undamped Gauss-Newton does badly here: with a 2-unit bottleneck J is nearly rank\n"
          "deficient, the Gauss-Newton step is huge and poorly aimed, and its line search creeps.\n"
          "LM's damping interpolates between Gauss-Newton (small lambda) and gradient descent\n"
          "(large lambda), which is exactly what this problem needs.");
  }
  return s.finish();
}
