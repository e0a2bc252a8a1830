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
#include "nnlab/methods/hessian.hpp"
#include "nnlab/methods/lsq.hpp"
#include "common/plot.hpp"

#include <algorithm>
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
        "delta = -J \\ r, by QR on J (columns scaled, pivoted, refined: lsq::solve_linear).\n"
        "Levenberg-Marquardt adds lambda diag(J'J) to J'J and adapts lambda by the gain ratio\n"
        "(actual / predicted decrease).");

  s.section("2. sigma = Id: linear least squares in one step");
  arma::vec y_lin = Xa * truth + 0.05 * arma::randn(K);
  arma::vec ls;  // LAPACK's own least-squares driver (dgels, through Armadillo)
  arma::solve(ls, Xa, y_lin, arma::solve_opts::no_approx);
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
    const double gained = std::log10(arma::norm(ne - truth, "inf") / arma::norm(qr - truth, "inf"));
    s.show("digits QR keeps over the normal equations, log10 of the ratio", gained);
    s.show("log10 cond(J), the digits the squaring costs in theory", std::log10(arma::cond(ill.augmented())));
    s.check("QR keeps at least 6 more digits", gained >= 6);
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
  s.say("Columns: |step| = ||beta_k - beta_{k-1}||; then LM's damping lambda, or gradient descent's\n"
        "step lambda in beta - lambda grad f (0.5 fixed, or the line search's: 1 halved while f does not\n"
        "decrease), or for Gauss-Newton the fraction of its step taken (1 unless it backtracks); the\n"
        "gain ratio is the actual decrease of f over the decrease the linear model r + J delta predicts\n"
        "(1: the model is exact; not used by gradient descent, shown as 0).");
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
      if (std::string(cas) == "noisy" && m.m == Method::gauss_newton) {
        // A gain ratio far from 1 only where f no longer changes beyond its own rounding.
        bool noise_only = true;
        int wild = 0, first = 0;
        std::string ratios;
        for (std::size_t i = 1; i < sum.history.size(); ++i) {
          const auto& h = sum.history[i];
          if (h.gain_ratio != 0 && std::abs(h.gain_ratio - 1) > 0.5) {
            if (!wild++) first = h.iter;
            ratios += (ratios.empty() ? "" : ", ") + lab::fmt(h.gain_ratio, 1);
            noise_only = noise_only && std::abs(sum.history[i - 1].cost - h.cost) <= 16 * 2.2e-16 * h.cost;
          }
        }
        s.say("  From iteration " + std::to_string(first) + " on the gain ratios (" + ratios + ") are noise: f has\n"
              "  reached its minimum to the last bits (|f_k - f_{k-1}| ~ eps f ~ 1e-17), and the predicted\n"
              "  decrease, ~ |step|^2, is far below that rounding; the solver goes on until the gradient is small.");
        s.check("every gain ratio off by more than 0.5 (" + std::to_string(wild) +
                    " here) comes where |f_k - f_{k-1}| <= 16 eps f",
                wild > 0 && noise_only);
      }
      if (m.m == Method::gradient_descent_ls && sum.status == Status::line_search_failed) {
        s.say("  line_search_failed: the notes' loop 'while F(u - lambda grad) >= F(u): lambda = lambda/2'\n"
              "  never ends once no lambda decreases F, which happens in floating point at the minimum,\n"
              "  where F(u - lambda grad) and F(u) are equal to the last bit.  The solver stops after 60\n"
              "  halvings and says so; the point is the minimum to round-off:");
        s.check_close("  cost when the line search failed = the GN minimum", sum.final_cost, f_gn, 1e-12);
      }
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

  s.section("4. The true Hessian: what Gauss-Newton leaves out, and Newton's method beside it");
  s.say("f = 0.5 sum_k r_k^2 has gradient J'r and Hessian\n"
        "   H = J'J + S,   S = sum_k r_k Hess(r_k) = -sum_k r_k sigma''(z_k) [x_k; 1][x_k; 1]'.\n"
        "Gauss-Newton keeps J'J and drops S: exact when the residuals vanish, a good model when they\n"
        "are small.  Near the minimum its error shrinks by the factor rho = spectral radius of\n"
        "(J'J)^-1 S per iteration (linear convergence); Newton uses H itself (quadratic).  Three\n"
        "problems, the same 40 inputs, y = sigma(w*.x + b*) + noise (arma seed 17), all from beta = 0.");
  struct Case { const char* file; double noise; };
  const Case cases[] = {{"small", 0.05}, {"moderate", 0.3}, {"large", 0.35}};
  std::vector<double> rhos;
  for (const auto& cs : cases) {
    arma::arma_rng::set_seed(17);
    const arma::vec y = y_exact + cs.noise * arma::randn(K);
    NeuronProblem p(X, y, Activation::sigmoid);
    std::printf("\n  --- noise %.2f (%s residuals) ---\n", cs.noise, cs.file);
    arma::vec bn(3, arma::fill::zeros);  // the minimum, by Newton
    Options on;
    on.method = Method::newton;
    const auto sn = solve(p, bn, on);
    arma::mat JtJ, S, H;
    p.hessian_parts(bn, JtJ, S);
    p.hessian(bn, H);
    if (cs.noise == 0.3) {
      s.show("at the minimum: J'J", JtJ, 5);
      s.show("S = sum_k r_k Hess(r_k)", S, 5);
      // the same Hessian by Hessian-vector products, dual numbers through the network code:
      // the neuron as a one-layer network with mse, f = K J
      Network<double> net;
      net.loss = Loss::mse;
      net.layers.push_back({Activation::sigmoid, arma::mat(bn.head(2).t()), arma::vec{bn[2]}});
      arma::mat Hv(3, 3);
      for (arma::uword j = 0; j < 3; ++j) {
        Grads<double> e;
        e.dW = {arma::mat(1, 2, arma::fill::zeros)};
        e.db = {arma::vec(1, arma::fill::zeros)};
        if (j < 2) e.dW[0](0, j) = 1;
        else e.db[0](0) = 1;
        const Grads<double> h = hvp(net, X.t(), arma::mat(y.t()), e);
        Hv.col(j) = double(K) * arma::vec{h.dW[0](0, 0), h.dW[0](0, 1), h.db[0](0)};
      }
      s.check("H = J'J + S equals K times the network's Hessian by dual numbers (1e-12)",
              arma::norm(H - Hv, "inf") <= 1e-12 * arma::norm(H, "inf"));
    }
    const double rho = arma::max(arma::abs(arma::eig_gen(arma::solve(JtJ, S))));
    rhos.push_back(rho);
    s.show(std::string(cs.file) + ": ||S|| / ||J'J||", arma::norm(S) / arma::norm(JtJ));
    s.show(std::string(cs.file) + ": rho = spectral radius of (J'J)^-1 S", rho);
    std::printf("  %-30s %10s %14s %12s  %s\n", "method", "iterations", "cost", "|grad f|", "status");
    std::size_t gn_iters = 0;
    double gn_rate = 0;
    for (Method m : {Method::gauss_newton, Method::levenberg_marquardt, Method::newton}) {
      arma::vec b(3, arma::fill::zeros);
      Options o;
      o.method = m;
      o.max_iterations = 100;
      const auto sum = m == Method::newton ? sn : solve(p, b, o);
      std::printf("  %-30s %10d %14.8e %12.3e  %s\n", name(m).c_str(), sum.iterations, sum.final_cost,
                  sum.history.back().grad_norm, name(sum.status).c_str());
      arma::vec it(sum.history.size()), gn(sum.history.size());
      for (std::size_t i = 0; i < sum.history.size(); ++i) {
        it[i] = sum.history[i].iter;
        gn[i] = std::max(sum.history[i].grad_norm, 1e-17);
      }
      const char* tag = m == Method::gauss_newton ? "gn" : m == Method::levenberg_marquardt ? "lm" : "newton";
      plot::write_table(s.id(), std::string("hessian_") + cs.file + "_" + tag + ".csv", {"iter", "grad_norm"}, {it, gn});
      if (m == Method::gauss_newton) {
        gn_iters = std::size_t(sum.iterations);
        std::vector<double> ratios;  // |g_k+1| / |g_k| where the convergence is linear
        for (std::size_t i = 1; i < sum.history.size(); ++i)
          if (sum.history[i - 1].grad_norm < 1e-3 && sum.history[i].grad_norm > 1e-12)
            ratios.push_back(sum.history[i].grad_norm / sum.history[i - 1].grad_norm);
        std::sort(ratios.begin(), ratios.end());
        gn_rate = ratios.empty() ? 0 : ratios[ratios.size() / 2];
        s.show(std::string(cs.file) + ": Gauss-Newton's observed rate (median |g_k+1| / |g_k|)", gn_rate);
      }
      if (m == Method::newton) {
        s.check(std::string(cs.file) + ": Newton reaches |grad f| < 1e-13", sum.history.back().grad_norm < 1e-13);
        s.check(std::string(cs.file) + ": Newton needs fewer iterations than Gauss-Newton",
                std::size_t(sum.iterations) < gn_iters);
      }
    }
    s.check_close(std::string(cs.file) + ": Gauss-Newton's observed rate is rho", gn_rate, rho, 0.25);
  }
  s.check("rho grows with the residuals: 0.06, 0.43, 0.87", rhos[0] < 0.1 && rhos[1] > 0.3 && rhos[2] > 0.8);
  s.say("Small residuals: S is a few percent of J'J, rho ~ 0.06, Gauss-Newton gains over a digit per\n"
        "iteration and Newton saves little.  As the residuals grow, rho grows: at rho = 0.43 Gauss-\n"
        "Newton gains a third of a digit per iteration; at rho = 0.87 a twentieth, and neither it nor LM\n"
        "gets below |grad f| = 5e-9 in 100 iterations, while Newton, which uses S, converges\n"
        "quadratically in 13.  LM is\n"
        "Gauss-Newton with damping lambda diag(J'J): it makes every step a descent and keeps it short\n"
        "far from the minimum or when J'J is nearly singular (the network of section 5), but near the\n"
        "minimum lambda -> 0 and it inherits Gauss-Newton's rate rho.  The price of Newton: second\n"
        "derivatives, and an H that may be indefinite far from the minimum (then its step is no descent\n"
        "direction, and the solver takes the Gauss-Newton step instead).");
  s.wrote(plot::render(s.id(), "hessian_rates"));

  s.section("5. The same machinery on a network: n = [4, 2, 5, 3, 1], sigmoid everywhere");
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
