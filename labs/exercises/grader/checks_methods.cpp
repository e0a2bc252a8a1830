// Checks of the method tasks: the neuron's residual and Jacobian, the Gauss-Newton step, the
// line search, the decreasing SGD step, the hinge-loss SGD step, the ReLU constructions, the
// minimum-norm fit and the ensemble average.
#include "check.hpp"

#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/double_descent.hpp"
#include "nnlab/methods/lsq.hpp"
#include "nnlab/methods/optim.hpp"
#include "nnlab/methods/relu_constructions.hpp"
#include "nnlab/methods/separation.hpp"


using namespace nnlab;
using ex::rnd;

NNLAB_CHECK("neuron-residual-jacobian", "r_k = y_k - g(w.x_k + b) and J = dr/dbeta against central differences (g = atan, softplus, identity)") {
  const arma::mat X = rnd(7, 2, 100);
  const arma::vec y = rnd(7, 1, 101), beta = {0.6, -0.4, 0.3};
  for (Activation g : {Activation::atan, Activation::softplus, Activation::identity}) {
    const lsq::NeuronProblem p(X, y, g);
    arma::vec r;
    arma::mat J;
    ex::guarded("NeuronProblem::evaluate", [&] { p.evaluate(beta, r, &J); });
    const std::string where = std::string(" (g = ") + std::string(name(g)) + ")";
    auto model = [&](const arma::vec& bt) {
      arma::vec r2(7);
      for (arma::uword k = 0; k < 7; ++k) r2[k] = y[k] - act::value(g, X(k, 0) * bt[0] + X(k, 1) * bt[1] + bt[2]);
      return r2;
    };
    if (g != Activation::identity)  // the identity's residual is recomputed in twice the precision outside the task
      ex::expect_close("r", r, model(beta), 1e-14, 1e-14, where, {},
                       {{y - model(beta) - y, "r = y - g(z), not g(z) - y"}});
    const arma::mat fJ = ex::fd_jacobian(model, beta);
    ex::expect_close("J", J, fJ, 1e-8, 1e-11, where, {},
                     {{-fJ, "J = dr/dbeta = -g'(z) [x', 1]: the residual is y - g(z), so its derivative has a minus"}});
  }
}

NNLAB_CHECK("gauss-newton-step", "delta = -(J'J)^-1 J'r: the normal equations hold, and delta minimises ||J delta + r||") {
  const arma::mat J = rnd(8, 3, 110);
  const arma::vec r = rnd(8, 1, 111);
  arma::vec delta;
  ex::guarded("gauss_newton_step", [&] { delta = lsq::gauss_newton_step(J, r); });
  const arma::vec want = lsq::solve_linear(J, -r).x;  // QR with refinement: no exercise
  ex::expect(!delta.is_empty(), "delta is empty: solve (J'J) delta = -J'r (it is empty only when J'J is singular)");
  ex::expect_close("delta", arma::mat(delta), arma::mat(want), 1e-10, 1e-12, "", {},
                   {{arma::mat(-want), "the step goes uphill: delta = -(J'J)^-1 J'r"}});
  ex::expect_close("J'(J delta + r)", arma::mat(J.t() * (J * delta + r)), arma::mat(3, 1, arma::fill::zeros), 0, 1e-12,
                   " (the normal equations)");
}

namespace {
// F(u) = c ||u||^2 over every parameter u of the network, or a constant with a nonzero
// gradient (no step can decrease it); counts the evaluations of F.
class Quadratic final : public Backend<double> {
 public:
  explicit Quadratic(double c, bool flat = false) : c_(c), flat_(flat) {}
  BackendKind kind() const override { return BackendKind::naive; }
  void forward(const Network<double>& net, const arma::mat&, Cache<double>&) override { u_ = flatten_params(net); }
  double cost(const Network<double>&, const arma::mat&, Cache<double>&) override {
    ++evaluations;
    return flat_ ? 1.0 : c_ * arma::dot(u_, u_);
  }
  void backward(const Network<double>& net, const arma::mat&, const arma::mat&, Cache<double>&, Grads<double>& g,
                bool) override {
    g.dW.clear();
    g.db.clear();
    for (const auto& L : net.layers) {
      g.dW.push_back(flat_ ? arma::mat(arma::size(L.W), arma::fill::ones) : arma::mat(2 * c_ * L.W));
      g.db.push_back(flat_ ? arma::vec(arma::size(L.b), arma::fill::ones) : arma::vec(2 * c_ * L.b));
    }
  }
  void vjp(const Network<double>&, const arma::mat&, const arma::mat&, Cache<double>&, Grads<double>&, bool) override {
    throw std::logic_error("the line search needs no vjp");
  }
  int evaluations = 0;

 private:
  double c_;
  bool flat_;
  arma::vec u_;
};
Network<double> params(const arma::vec& u) {  // one layer: W 1x2 = u(0..1), b = u(2)
  Network<double> n;
  n.layers.push_back({Activation::identity, arma::mat{{u[0], u[1]}}, arma::vec{u[2]}});
  return n;
}
void step(Quadratic& F, optim::LineSearch<double>& ls, Network<double>& net) {
  Cache<double> c;
  Grads<double> g;
  const arma::mat X(2, 1, arma::fill::zeros), Y(1, 1, arma::fill::zeros);
  ex::guarded("LineSearch::step", [&] { ls.step(F, net, X, Y, c, g); });
}
}  // namespace

NNLAB_CHECK("gd-line-search", "F(u) = ||u||^2: lambda = 1 gives F(u - grad) = F(u), no decrease; lambda = 1/2 reaches 0") {
  const arma::vec u0 = {1.0, -2.0, 0.5};
  Quadratic F(1);
  optim::LineSearch<double> ls;
  auto net = params(u0);
  step(F, ls, net);
  ex::expect_close("u after the step", arma::mat(flatten_params(net)), arma::mat(3, 1, arma::fill::zeros), 0, 1e-15, "", {},
                   {{arma::mat(-u0), "u - grad: lambda = 1 was taken though F(u - grad) = F(u); halve while "
                                     "F(u - lambda grad) >= F(u), the step needs a strict decrease"},
                    {arma::mat(u0), "u did not move: take the step u - lambda grad once F decreases"}});
  ex::expect_close("lambda (LineSearch::lr)", ls.lr, 0.5, 0, 0, " (the lambda of the step taken)");
}

NNLAB_CHECK("gd-line-search", "F(u) = 100 ||u||^2: halve from 1 down to the first lambda that decreases F (2^-7)") {
  const arma::vec u0 = {0.3, 0.1, -0.2};
  Quadratic F(100);
  optim::LineSearch<double> ls;
  auto net = params(u0);
  step(F, ls, net);
  const double lam = std::ldexp(1.0, -7);
  ex::expect_close("u after the step", arma::mat(flatten_params(net)), arma::mat((1 - 200 * lam) * u0), 1e-15, 1e-15, "",
                   {}, {{arma::mat(u0), "u did not move: take the step u - lambda grad once F decreases"},
                        {arma::mat((1 - 100 * lam) * u0), "halved once too many: stop at the first lambda where F decreases"}});
  ex::expect_close("lambda", ls.lr, lam, 0, 0, "", {},
                   {{arma::mat{lam / 2}, "halved once too many: stop at the first lambda where F decreases"},
                    {arma::mat{lam * 2}, "halved once too few: F(u - 2^-6 grad) >= F(u)"}});
  ex::expect(F.evaluations == 9, "F was evaluated " + std::to_string(F.evaluations) +
                                     " times; expected 9 (F(u), then one per trial lambda = 1, 1/2, ..., 2^-7)");
}

NNLAB_CHECK("gd-line-search", "no lambda decreases F: stop after kMaxHalvings halvings and keep u") {
  const arma::vec u0 = {0.3, 0.1, -0.2};
  Quadratic F(1, true);
  optim::LineSearch<double> ls;
  auto net = params(u0);
  step(F, ls, net);
  ex::expect_close("u", arma::mat(flatten_params(net)), arma::mat(u0), 0, 0, " after a step with no decrease (u must stay)");
  ex::expect(F.evaluations <= 1 + optim::LineSearch<double>::kMaxHalvings,
             "F was evaluated " + std::to_string(F.evaluations) + " times; at most 1 + kMaxHalvings = " +
                 std::to_string(1 + optim::LineSearch<double>::kMaxHalvings) + " (stop halving after kMaxHalvings trials)");
}

NNLAB_CHECK("sgd-decreasing-step", "lambda(t) = lambda0 / (1 + decay t): its values, sum lambda = inf, sum lambda^2 < inf") {
  const double l0 = 0.5, d = 0.01;
  for (double t : {0.0, 1.0, 10.0, 1000.0, 1e6}) {
    const double got = optim::decreasing_step(l0, d, t);
    ex::expect_close("lambda(t)", got, l0 / (1 + d * t), 1e-15, 0, ex::at("t", t) + " (lambda0 = 0.5, decay = 0.01)", {},
                     {{arma::mat{l0}, "constant: the step must decrease with t"},
                      {arma::mat{l0 * std::pow(1 - d, t)}, "geometric decay: sum lambda(t) is then finite and SGD "
                                                           "may stop short of the minimum"},
                      {arma::mat{l0 / (1 + t)}, "decay is missing: lambda0 / (1 + decay t)"}});
  }
  double s = 0, s2 = 0;
  for (int t = 0; t < 1000000; ++t) {
    const double l = optim::decreasing_step(l0, d, t);
    s += l;
    s2 += l * l;
  }
  ex::expect(s > 0.99 * (l0 / d) * std::log(1 + d * 1e6),
             "sum of lambda(t) over 10^6 steps = " + ex::num(s) + ": it must grow like log t (sum lambda = inf)");
  ex::expect(s2 < l0 * l0 * (1 + 1 / d), "sum of lambda(t)^2 = " + ex::num(s2) + " is not bounded");
}

NNLAB_CHECK("hinge-sgd-step", "one Pegasos step: w <- (1 - 1/t) w + [y (w.x + b) < 1] eta y x, b likewise without decay") {
  struct Case { arma::vec w; double b; arma::vec x; double y; std::uint64_t t; const char* what; };
  const std::vector<Case> cases = {
      {{0.5, -0.25, 1.0}, 0.1, {1.0, 2.0, -0.5}, 1, 3, "active (y (w.x + b) < 1)"},
      {{2.0, 1.0, 0.0}, -0.5, {1.0, 1.0, 1.0}, 1, 4, "inactive (y (w.x + b) >= 1)"},
      {{0.3, 0.2, -0.1}, 0.0, {-1.0, 0.5, 2.0}, -1, 7, "active, y = -1"},
      {{1.0, 1.0, 1.0}, 0.2, {0.1, 0.2, 0.3}, 1, 1, "t = 1 (w decays to 0 before the hinge's step)"}};
  const double lambda = 0.1;
  for (const auto& c : cases) {
    arma::vec w = c.w;
    double b = c.b;
    ex::guarded("hinge_sgd_step", [&] { sep::hinge_sgd_step(w, b, c.x, c.y, lambda, c.t); });
    const double margin = c.y * (arma::dot(c.w, c.x) + c.b), eta = 1 / (lambda * double(c.t));
    const bool active = margin < 1;
    const arma::vec ww = (1 - 1.0 / double(c.t)) * c.w + (active ? eta * c.y : 0.0) * c.x;
    const double bw = c.b + (active ? eta * c.y : 0.0);
    const std::string where = std::string(" (") + c.what + ")";
    ex::expect_close("w", arma::mat(w), arma::mat(ww), 1e-14, 1e-14, where, {},
                     {{arma::mat(active ? arma::vec(c.w + eta * c.y * c.x) : c.w),
                       "the decay (1 - 1/t) w applies at every step, active or not: it is the gradient of (lambda/2)||w||^2"}});
    ex::expect_close("b", b, bw, 1e-14, 1e-14, where, {},
                     {{arma::mat{(1 - 1.0 / double(c.t)) * bw}, "b is not regularised: no decay on b"}});
  }
}

namespace {
arma::vec eval(const Network<double>& net, const arma::mat& X) {  // one output per column of X
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> c;
  be->forward(net, X, c);
  return arma::vec(c.A.back().row(0).t());
}
void expect_layers(const Network<double>& net, const std::vector<std::size_t>& sizes, const std::vector<Activation>& acts,
                   const std::string& what) {
  std::string want, got;
  for (std::size_t s : sizes) want += (want.empty() ? "" : "-") + std::to_string(s);
  if (net.layers.empty()) ex::fail(what + " has no layers");
  for (std::size_t s : net.sizes()) got += (got.empty() ? "" : "-") + std::to_string(s);
  ex::expect(got == want, what + " has sizes " + got + ", expected " + want);
  for (std::size_t l = 0; l < acts.size(); ++l)
    ex::expect(net.layers[l].act == acts[l], what + ": layer " + std::to_string(l + 1) + " is " +
                                                 std::string(name(net.layers[l].act)) + ", expected " + std::string(name(acts[l])));
  ex::guarded(what + ": the network", [&] { net.validate(); });
}
}  // namespace

NNLAB_CHECK("relu-abs-l1", "abs_net: |x| = relu(x) + relu(-x), 3 neurons; l1_dist_net: ||x - q||_1 with 2D + 1 neurons") {
  const auto a = relu::abs_net();
  expect_layers(a, {1, 2, 1}, {Activation::relu, Activation::identity}, "abs_net()");
  const arma::rowvec xs = arma::linspace<arma::rowvec>(-3, 3, 13);
  ex::expect_close("abs_net(x)", arma::mat(eval(a, xs)), arma::mat(arma::abs(xs).t()), 0, 0, " for x = -3, -2.5, ..., 3");
  const arma::vec q = {1, -2, 3};
  const auto d = relu::l1_dist_net(q);
  expect_layers(d, {3, 6, 1}, {Activation::relu, Activation::identity}, "l1_dist_net(q = (1, -2, 3))");
  arma::mat X(3, 64);
  for (int k = 0; k < 64; ++k) X.col(k) = arma::vec{double(k % 4) - 1, double(k / 4 % 4) - 3, double(k / 16) + 1};
  arma::vec want(64);
  for (int k = 0; k < 64; ++k) want[k] = arma::accu(arma::abs(X.col(k) - q));
  ex::expect_close("l1_dist_net(x)", arma::mat(eval(d, X)), arma::mat(want), 0, 0, " on a 4x4x4 grid of integer points");
}

NNLAB_CHECK("relu-pseudo-dirac", "g_q(x) = relu(1 - ||x - q||_1): 1 at q, 0 once ||x - q||_1 >= 1, 2D + 1 neurons") {
  const arma::vec q = {2, -1};
  const auto n = relu::pseudo_dirac_net(q);
  expect_layers(n, {2, 4, 1}, {Activation::relu, Activation::relu}, "pseudo_dirac_net(q = (2, -1))");
  arma::mat X(2, 81);
  for (int k = 0; k < 81; ++k) X.col(k) = q + arma::vec{(k % 9 - 4) * 0.25, (k / 9 - 4) * 0.25};
  arma::vec want(81);
  for (int k = 0; k < 81; ++k) want[k] = std::max(0.0, 1 - arma::accu(arma::abs(X.col(k) - q)));
  ex::expect_close("g_q(x)", arma::mat(eval(n, X)), arma::mat(want), 0, 1e-15, " on a 9x9 grid around q (step 1/4)");
}

NNLAB_CHECK("relu-memorizer", "f(x) = sum_n y_n relu(1 - ||x - x_n||_1): f(x_n) = y_n exactly, 0 away from the points, 2ND + N + 1 neurons") {
  const arma::mat P = {{0, 0}, {1, 2}, {-3, 1}, {2, -2}, {4, 4}, {-1, -4}};  // N = 6 points of Z^2, one per row
  const arma::vec y = {1, -1, 1, 1, -1, -1};
  Network<double> n;
  ex::guarded("memorize_net", [&] { n = relu::memorize_net(P, y); });
  expect_layers(n, {2, 24, 6, 1}, {Activation::relu, Activation::relu, Activation::identity}, "memorize_net (N = 6, D = 2)");
  ex::expect_close("f(x_n)", arma::mat(eval(n, P.t())), arma::mat(y), 0, 0, " at the six training points");
  const arma::mat far = {{10, 10}, {0.5, 0.5}, {-2, -2}, {3, 0}};  // L1 distance >= 1 to every point
  ex::expect_close("f(x)", arma::mat(eval(n, far.t())), arma::mat(4, 1, arma::fill::zeros), 0, 0,
                   " at (10,10), (0.5,0.5), (-2,-2), (3,0), each at L1 distance >= 1 from every x_n");
  const arma::mat half = {{0.25, 0.25}};  // distance 1/2 from (0, 0) only
  ex::expect_close("f(x)", arma::mat(eval(n, half.t())), arma::mat{0.5}, 0, 1e-15, " at (1/4, 1/4): y_1 (1 - 1/2)");
}

NNLAB_CHECK("min-norm-lstsq", "the filter g_i = 1/s_i above tol, 0 below") {
  const arma::vec s = {4, 2, 1e-9, 1e-20, 0};
  arma::vec g;
  ex::guarded("min_norm_filter", [&] { g = dd::min_norm_filter(s, 1e-12); });
  ex::expect_close("g", arma::mat(g), arma::mat(arma::vec{0.25, 0.5, 1e9, 0, 0}), 1e-15, 0,
                   " for s = (4, 2, 1e-9, 1e-20, 0), tol = 1e-12");
}

NNLAB_CHECK("min-norm-lstsq", "fit_model with ridge 0: W = the minimum-norm least-squares fit (pinv), p < n and p > n") {
  const arma::mat X = rnd(3, 12, 120), Y = rnd(2, 12, 121);
  for (std::size_t p : {5u, 40u}) {
    dd::Model m;
    ex::guarded("dd::fit_model", [&] { m = dd::fit_model(X, Y, p, 0, 7); });
    const arma::mat Phi = dd::features(m, X);  // p x n
    const arma::vec mu = arma::mean(Phi, 1), ybar = arma::mean(Y, 1);
    const arma::mat Pc = Phi.each_col() - mu, Yc = Y.each_col() - ybar;
    const arma::mat Wref = (arma::pinv(arma::mat(Pc.t())) * Yc.t()).t();
    const std::string where = " (p = " + std::to_string(p) + " features, n = 12 samples)";
    if (arma::norm(m.W, "fro") > 1e6 * arma::norm(Wref, "fro"))
      ex::fail("W is huge" + where + ": ||W|| = " + ex::num(arma::norm(m.W, "fro")) + ", expected " +
               ex::num(arma::norm(Wref, "fro")) + " (1/s_i also for the singular values below tol: the pseudo-inverse "
               "drops them)");
    ex::expect_close("W", m.W, Wref, 1e-7, 1e-9, where);
    ex::expect_close("b", arma::mat(m.b), arma::mat(ybar - Wref * mu), 1e-7, 1e-9, where);
  }
}

NNLAB_CHECK("ensemble-average", "the mean of K = 4 members' predictions, entry by entry") {
  std::vector<arma::mat> P;
  for (unsigned k = 0; k < 4; ++k) P.push_back(rnd(3, 5, 130 + k));
  arma::mat got;
  ex::guarded("ensemble_average", [&] { got = dd::ensemble_average(P); });
  const arma::mat want = (P[0] + P[1] + P[2] + P[3]) / 4;
  ex::expect_close("average", got, want, 1e-15, 1e-15, " of 4 members", {{4, "K = 4 times the mean: divide the sum by K"}},
                   {{(P[0] + P[1] + P[2]) / 3, "the last member is left out"},
                    {(P[1] + P[2] + P[3]) / 3, "the first member is left out"},
                    {(P[0] + P[1] + P[2] + P[3]) / 3, "divide by K = 4, the number of members"}});
  ex::expect_close("average of one member", dd::ensemble_average({P[2]}), P[2], 0, 0);
}
