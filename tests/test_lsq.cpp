// Gauss-Newton / Levenberg-Marquardt: Jacobians against FD, the identity neuron in one
// step, quadratic convergence on zero-residual data, agreement on noisy data, the normal
// equations' lost digits, whole networks.
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/lsq.hpp"

#include <catch2/catch.hpp>

using namespace nnlab;
using namespace nnlab::lsq;

namespace {
struct Data { arma::mat X; arma::vec y, beta; };
// K points x ~ U[-2, 2]^n, y = g(w.x + b) + noise * N(0,1), seeded.
Data neuron_data(std::size_t K, std::size_t n, Activation g, double noise, unsigned seed) {
  arma::arma_rng::set_seed(seed);
  Data d;
  d.X = 4 * arma::randu(K, n) - 2;
  d.beta = arma::randn(n + 1);
  const arma::vec z = arma::join_rows(d.X, arma::ones(K)) * d.beta;
  d.y.set_size(K);
  for (arma::uword k = 0; k < K; ++k) d.y[k] = act::value(g, z[k]);
  d.y += noise * arma::randn(K);
  return d;
}
// The same problem solved from zero by Gauss-Newton and by Levenberg-Marquardt (100 iterations).
struct GnLm { arma::vec b_gn, b_lm; Summary gn, lm; };
GnLm solve_gn_lm(const Problem& p) {
  GnLm r{arma::vec(p.num_parameters(), arma::fill::zeros), arma::vec(p.num_parameters(), arma::fill::zeros), {}, {}};
  Options o;
  o.max_iterations = 100;
  r.gn = solve(p, r.b_gn, o);
  o.method = Method::levenberg_marquardt;
  r.lm = solve(p, r.b_lm, o);
  return r;
}
arma::mat fd_jacobian(const Problem& p, const arma::vec& beta) {
  arma::vec r;
  p.evaluate(beta, r, nullptr);
  arma::mat J(r.n_elem, beta.n_elem);
  for (arma::uword j = 0; j < beta.n_elem; ++j)
    for (arma::uword k = 0; k < r.n_elem; ++k)
      J(k, j) = fd_central([&](double v) { arma::vec b = beta, rr; b[j] = v; p.evaluate(b, rr, nullptr); return rr[k]; },
                           beta[j], 1e-3, 4);
  return J;
}
}  // namespace

TEST_CASE("neuron residuals and Jacobian: a hand-checked case", "[lsq]") {
  // One point x = (1, 2), y = 1, beta = (0.5, -0.25, 0.1): z = 0.1, sigmoid.
  NeuronProblem p(arma::mat{{1.0, 2.0}}, arma::vec{1.0}, Activation::sigmoid);
  arma::vec r;
  arma::mat J;
  p.evaluate(arma::vec{0.5, -0.25, 0.1}, r, &J);
  const double s = 1 / (1 + std::exp(-0.1));
  CHECK(r[0] == Approx(1 - s).epsilon(1e-15));
  CHECK(J(0, 0) == Approx(-s * (1 - s)).epsilon(1e-15));
  CHECK(J(0, 1) == Approx(-2 * s * (1 - s)).epsilon(1e-15));
  CHECK(J(0, 2) == Approx(-s * (1 - s)).epsilon(1e-15));
}

TEST_CASE("neuron Jacobians match finite differences (identity, sigmoid, tanh)", "[lsq]") {
  for (Activation g : {Activation::identity, Activation::sigmoid, Activation::tanh}) {
    const auto d = neuron_data(12, 3, g, 0.1, 5);
    NeuronProblem p(d.X, d.y, g);
    const arma::vec beta = arma::randn(4);
    arma::vec r;
    arma::mat J;
    p.evaluate(beta, r, &J);
    REQUIRE(rel_diff(J, fd_jacobian(p, beta)) <= 1e-9);
  }
}

TEST_CASE("identity neuron: one Gauss-Newton step from any start is the LAPACK solution", "[lsq]") {
  const auto d = neuron_data(40, 4, Activation::identity, 0.3, 7);
  const arma::vec ls = linear_least_squares(d.X, d.y);
  NeuronProblem p(d.X, d.y, Activation::identity);
  for (unsigned seed : {1u, 2u, 3u}) {
    arma::arma_rng::set_seed(seed);
    arma::vec beta = 10 * arma::randn(5);
    Options o;
    o.max_iterations = 1;
    solve(p, beta, o);
    REQUIRE(arma::norm(beta - ls, "inf") <= 1e-12 * std::max(1.0, arma::norm(ls, "inf")));
  }
}

TEST_CASE("zero-residual sigmoid neuron: cost below 1e-20 within 15 iterations from zero", "[lsq]") {
  for (auto m : {Method::gauss_newton, Method::levenberg_marquardt})
    for (unsigned seed : {1u, 2u, 3u, 4u})
      for (std::size_t n : {1u, 2u, 5u}) {
        const auto d = neuron_data(30 + 10 * n, n, Activation::sigmoid, 0, seed);
        NeuronProblem p(d.X, d.y, Activation::sigmoid);
        arma::vec beta(n + 1, arma::fill::zeros);
        Options o;
        o.method = m;
        o.max_iterations = 15;
        const auto s = solve(p, beta, o);
        INFO(name(m) << " seed " << seed << " n " << n << "\n" << s.table());
        REQUIRE(s.final_cost < 1e-20);
        REQUIRE(s.iterations <= 15);
        REQUIRE(arma::norm(beta - d.beta, "inf") <= 1e-8);
        REQUIRE(s.history.size() >= 2);
      }
}

TEST_CASE("Gauss-Newton converges quadratically on a zero-residual problem", "[lsq]") {
  const auto d = neuron_data(50, 2, Activation::sigmoid, 0, 11);
  NeuronProblem p(d.X, d.y, Activation::sigmoid);
  arma::vec beta(3, arma::fill::zeros);
  const auto s = solve(p, beta);
  // Near the end, sqrt(cost) (the residual norm) is squared each step, give or take a constant.
  bool quadratic = false;
  for (std::size_t i = 2; i < s.history.size(); ++i) {
    const double e0 = std::sqrt(s.history[i - 1].cost), e1 = std::sqrt(s.history[i].cost);
    if (e0 < 1e-3 && e0 > 1e-12) quadratic = quadratic || (e1 < 10 * e0 * e0);
  }
  INFO(s.table());
  REQUIRE(quadratic);
}

TEST_CASE("rank-deficient J: Gauss-Newton takes the least-norm step instead of failing", "[lsq]") {
  // Identity neuron, third input column constant 1 (the bias's twin): [X 1] has rank 4 of 5.
  // From zero, one least-norm step lands on the least-norm least-squares solution pinv([X 1]) y,
  // whose two collinear coefficients are equal; the QR step alone was refused (status
  // linear_solver_failed after one iteration, beta still zero).
  auto d = neuron_data(30, 3, Activation::identity, 0.2, 21);
  d.X.col(2).fill(1.0);
  const arma::mat Xa = arma::join_rows(d.X, arma::ones(d.X.n_rows));
  const arma::vec best = arma::pinv(Xa) * d.y;
  {
    NeuronProblem p(d.X, d.y, Activation::identity);
    arma::vec beta(4, arma::fill::zeros);
    const auto s = solve(p, beta, {});
    INFO(s.table());
    REQUIRE(s.status != Status::linear_solver_failed);
    REQUIRE(s.history.at(1).min_norm);
    REQUIRE(arma::norm(beta - best, "inf") <= 1e-12 * arma::norm(best, "inf"));
    REQUIRE(beta[2] == Approx(beta[3]).epsilon(1e-12));
    REQUIRE(s.final_cost == Approx(0.5 * std::pow(arma::norm(Xa * best - d.y), 2)).epsilon(1e-12));
  }
  // Sigmoid neuron with an all-zero input column: GN reaches LM's minimum (same cost, same
  // parameters), and the zero column's weight stays 0 to round-off (the least-norm step has no
  // component there; SVD's rounding leaves at most ~1e-17 per step).
  auto z = neuron_data(40, 3, Activation::sigmoid, 0.05, 22);
  z.X.col(1).zeros();
  const auto r = solve_gn_lm(NeuronProblem(z.X, z.y, Activation::sigmoid));
  INFO(r.gn.table() << r.lm.table());
  REQUIRE(r.gn.status == Status::gradient_too_small);
  REQUIRE(r.gn.final_cost == Approx(r.lm.final_cost).epsilon(1e-12));
  REQUIRE(arma::norm(r.b_gn - r.b_lm, "inf") <= 1e-8);
  REQUIRE(std::abs(r.b_gn[1]) <= 1e-14);
  // Full rank: the QR step, never marked.
  const auto f = neuron_data(40, 3, Activation::sigmoid, 0.05, 23);
  NeuronProblem pf(f.X, f.y, Activation::sigmoid);
  arma::vec bf(4, arma::fill::zeros);
  for (const auto& h : solve(pf, bf, {}).history) REQUIRE_FALSE(h.min_norm);
}

TEST_CASE("noisy data: GN and LM reach the same minimum, where the gradient vanishes", "[lsq]") {
  const auto d = neuron_data(60, 3, Activation::sigmoid, 0.05, 13);
  NeuronProblem p(d.X, d.y, Activation::sigmoid);
  const auto [b_gn, b_lm, s_gn, s_lm] = solve_gn_lm(p);
  arma::vec b_gd(4, arma::fill::zeros);
  Options o;
  INFO(s_gn.table() << s_lm.table());
  REQUIRE(s_gn.final_cost == Approx(s_lm.final_cost).epsilon(1e-12));
  REQUIRE(arma::norm(b_gn - b_lm, "inf") <= 1e-8);
  // Both go on to round-off, |J'r| ~ 2e-15 here (|J| |r| ~ 10), within 20 iterations: not
  // stopping at 3e-9, where GN once backtracked on ulp-level noise in f and then took "f did
  // not change" for convergence, and LM spent 17 iterations rejecting steps on that noise.
  REQUIRE(s_gn.history.back().grad_norm <= 1e-12);
  REQUIRE(s_lm.history.back().grad_norm <= 1e-12);
  REQUIRE(s_gn.iterations <= 20);
  REQUIRE(s_lm.iterations <= 20);
  REQUIRE(s_gn.final_cost > 0.01);  // noise: the minimum is not zero
  // Gradient descent with the line search gets there too, slowly.
  o.method = Method::gradient_descent_ls;
  o.max_iterations = 3000;
  const auto s_gd = solve(p, b_gd, o);
  REQUIRE(s_gd.final_cost == Approx(s_gn.final_cost).epsilon(1e-6));
  REQUIRE(s_gd.iterations > 5 * s_gn.iterations);
}

TEST_CASE("normal equations lose the digits that QR keeps on an ill-conditioned J", "[lsq]") {
  // Two nearly collinear inputs: cond(J) ~ 1e6, so cond(J'J) ~ 1e12.
  arma::arma_rng::set_seed(3);
  const std::size_t K = 50;
  arma::mat X(K, 2);
  X.col(0) = arma::randn(K);
  X.col(1) = X.col(0) + 1e-6 * arma::randn(K);
  const arma::vec truth = {1.0, -2.0, 0.5};
  const arma::vec y = arma::join_rows(X, arma::ones(K)) * truth;  // exact, zero residual
  NeuronProblem p(X, y, Activation::identity);
  Options o;
  o.max_iterations = 1;
  arma::vec qr(3, arma::fill::zeros), ne(3, arma::fill::zeros);
  solve(p, qr, o);
  o.method = Method::gauss_newton_normal;
  solve(p, ne, o);
  const double e_qr = arma::norm(qr - truth, "inf"), e_ne = arma::norm(ne - truth, "inf");
  INFO("QR error " << e_qr << ", normal equations error " << e_ne << ", cond(J) " << arma::cond(p.augmented()));
  REQUIRE(e_qr <= 1e-8);
  REQUIRE(e_ne > 100 * e_qr);
}

TEST_CASE("whole network: residual Jacobian from per-sample backward passes matches FD", "[lsq][network]") {
  // The lectures' exercise 2 network n = [4, 2, 5, 3, 1], sigmoid everywhere.
  const std::vector<Activation> sig(4, Activation::sigmoid);
  const auto teacher = random_network<double>({4, 2, 5, 3, 1}, sig, Loss::mse, 21, 1.5);
  arma::arma_rng::set_seed(21);
  const arma::mat X = arma::randn(4, 15);
  const auto student = random_network<double>({4, 2, 5, 3, 1}, sig, Loss::mse, 22, 1.0);
  NetworkProblem p(student, X, arma::randu(15));
  const arma::vec theta = flatten_params(student);
  arma::vec r;
  arma::mat J;
  p.evaluate(theta, r, &J);
  REQUIRE(J.n_rows == 15);
  REQUIRE(J.n_cols == student.n_params());
  REQUIRE(rel_diff(J, fd_jacobian(p, theta)) <= 1e-8);
}

TEST_CASE("whole network: LM beats gradient descent; undamped GN stalls", "[lsq][network]") {
  // A teacher network of the same shape makes the data (zero residual is reachable).
  const std::vector<Activation> sig(4, Activation::sigmoid);
  const auto teacher = random_network<double>({4, 2, 5, 3, 1}, sig, Loss::mse, 41, 2.0);
  arma::arma_rng::set_seed(41);
  const arma::mat X = arma::randn(4, 100);  // K = 100 residuals > P = 47 parameters
  Cache<double> c;
  make_backend<double>(BackendKind::naive)->forward(teacher, X, c);
  const arma::vec y = c.A.back().row(0).t();
  const auto start = random_network<double>({4, 2, 5, 3, 1}, sig, Loss::mse, 42, 1.0);
  NetworkProblem p(start, X, y);
  Options o;
  o.max_iterations = 40;
  double costs[3];
  int i = 0;
  for (auto m : {Method::levenberg_marquardt, Method::gauss_newton, Method::gradient_descent_ls}) {
    arma::vec th = flatten_params(start);
    o.method = m;
    costs[i++] = solve(p, th, o).final_cost;
  }
  INFO("LM " << costs[0] << ", GN " << costs[1] << ", GD " << costs[2]);
  REQUIRE(costs[0] < 1e-3 * costs[2]);
  // J is nearly rank deficient here (a 2-unit bottleneck, symmetric sigmoids): the undamped
  // Gauss-Newton direction is poor and its line search creeps.  That is what LM's damping fixes.
  REQUIRE(costs[1] > 100 * costs[0]);
}

TEST_CASE("status and history", "[lsq]") {
  const auto d = neuron_data(20, 2, Activation::tanh, 0.2, 9);
  NeuronProblem p(d.X, d.y, Activation::tanh);
  arma::vec beta(3, arma::fill::zeros);
  Options o;
  o.method = Method::gradient_descent;
  o.step = 1e-3;
  o.max_iterations = 7;
  const auto s = solve(p, beta, o);
  REQUIRE(s.status == Status::hit_max_iterations);
  REQUIRE(s.iterations == 7);
  REQUIRE(s.history.size() == 8);
  REQUIRE(s.history[0].step_norm == 0);
  REQUIRE(s.history[0].cost == s.initial_cost);
  REQUIRE(s.final_cost < s.initial_cost);
  REQUIRE(name(s.status) == "hit_max_iterations");
}

// An uncentred polynomial design [x x^2 ... x^d 1] on x in [-9, -3]: cond ~ 1e15 at d = 10.
static arma::mat vandermonde(const arma::vec& x, int d) {
  arma::mat A(x.n_elem, arma::uword(d) + 1);
  for (int k = 1; k <= d; ++k) A.col(arma::uword(k - 1)) = arma::pow(x, double(k));
  A.col(arma::uword(d)).ones();
  return A;
}

TEST_CASE("solve_linear: a full-rank ill-conditioned problem stays full rank and is solved to many digits",
          "[lsq][linear]") {
  // Integer x and coefficients: y = A beta exactly in double, so beta is the exact solution.
  const arma::vec xi = arma::regspace(1, 20);
  for (int d : {4, 6, 8}) {
    const arma::mat A = vandermonde(xi, d);
    arma::vec beta(arma::uword(d) + 1);
    for (arma::uword j = 0; j < beta.n_elem; ++j) beta[j] = double(int(j % 5) - 2);
    const arma::vec y = A * beta;
    const LinearSolution s = solve_linear(A, y);
    INFO("degree " << d << ": cond " << s.cond << ", refinements " << s.refinements);
    CHECK(s.rank == A.n_cols);
    CHECK_FALSE(s.min_norm);
    CHECK(s.cond == Approx(arma::cond(A)).epsilon(1e-6));
    CHECK(arma::norm(s.x - beta, "inf") <= 1e-12 * arma::norm(beta, "inf"));  // far below cond * eps
    arma::vec plain;  // plain Householder QR (Armadillo's solve), for contrast: it loses more
    REQUIRE(arma::solve(plain, A, y, arma::solve_opts::no_approx));
    if (d == 8) CHECK(arma::norm(s.x - beta, "inf") < arma::norm(plain - beta, "inf"));
  }
  // cond ~ 1e15 (degree 10 on [-9, -3]): still full rank
  const arma::mat V = vandermonde(arma::linspace(-9, -3, 82), 10);
  const RankCond rc = rank_and_cond(V);
  CHECK(rc.rank == V.n_cols);
  CHECK(rc.cond > 1e14);
}

TEST_CASE("solve_linear: a rank-deficient problem gets the least-norm solution and says so", "[lsq][linear]") {
  const arma::mat A = {{1, 2, 3}, {2, 4, 6}, {1, 0, 1}, {0, 1, 1}};  // column 3 = column 1 + column 2
  const arma::vec b = {1, 2, 3, 4};
  const LinearSolution s = solve_linear(A, b);
  CHECK(s.rank == 2);
  CHECK(s.min_norm);
  CHECK(std::isinf(s.cond));
  CHECK(arma::norm(s.x - arma::pinv(A) * b, "inf") <= 1e-12);
  CHECK(rank_and_cond(A).rank == 2);
}

TEST_CASE("a linear problem converges in at most two Gauss-Newton iterations, with a convergence status",
          "[lsq][linear]") {
  const arma::vec x = arma::linspace(-9, -3, 40);
  arma::arma_rng::set_seed(3);
  for (int d : {1, 3, 6, 9}) {
    const arma::mat A = vandermonde(x, d);
    const arma::mat X = A.head_cols(arma::uword(d));
    const arma::vec y = 0.8 + 0.1 * arma::sin(x) + 1e-3 * arma::randn(x.n_elem);
    NeuronProblem p(X, y, Activation::identity);
    arma::vec beta(arma::uword(d) + 1, arma::fill::zeros);
    const Summary s = solve(p, beta, {});
    INFO("degree " << d << "\n" << s.table());
    CHECK(s.iterations <= 2);
    CHECK(s.status != Status::hit_max_iterations);
    CHECK(s.status != Status::line_search_failed);
    CHECK(s.status != Status::linear_solver_failed);
    CHECK(s.rank == A.n_cols);
    CHECK(s.cond == Approx(arma::cond(A)).epsilon(1e-6));
    CHECK(arma::norm(beta - solve_linear(A, y).x, "inf") <= 1e-9 * arma::norm(beta, "inf"));
  }
}

TEST_CASE("the neuron's true Hessian, and Newton's method with it", "[lsq][newton]") {
  for (Activation g : {Activation::sigmoid, Activation::tanh}) {
    const auto d = neuron_data(40, 2, g, 0.3, 17);
    NeuronProblem p(d.X, d.y, g);
    const arma::vec beta = {0.3, -0.7, 0.2};
    arma::mat H, JtJ, S;
    REQUIRE(p.hessian(beta, H));
    p.hessian_parts(beta, JtJ, S);
    CHECK(arma::norm(H - (JtJ + S), "inf") == 0);
    // H against central differences of the gradient J'r
    const auto grad = [&](const arma::vec& b) {
      arma::vec r;
      arma::mat J;
      p.evaluate(b, r, &J);
      return arma::vec(J.t() * r);
    };
    for (arma::uword j = 0; j < 3; ++j) {
      const double h = 1e-4;
      arma::vec e(3, arma::fill::zeros);
      e[j] = h;
      const arma::vec col = (-grad(beta + 2 * e) + 8 * grad(beta + e) - 8 * grad(beta - e) + grad(beta - 2 * e)) / (12 * h);
      INFO(name(g) << " column " << j);
      CHECK(arma::norm(col - H.col(j), "inf") <= 1e-8 * arma::norm(H, "inf"));
    }
    // Newton: quadratic at the end (each |grad| at most a constant times the previous squared)
    arma::vec b(3, arma::fill::zeros);
    Options o;
    o.method = Method::newton;
    const Summary s = solve(p, b, o);
    INFO(s.table());
    CHECK(s.status == Status::gradient_too_small);
    const auto& h = s.history;
    REQUIRE(h.size() >= 3);
    const double g2 = h[h.size() - 2].grad_norm, g3 = h[h.size() - 3].grad_norm;
    CHECK(g2 <= 100 * g3 * g3 + 1e-14);
    // and it reaches Gauss-Newton's minimum, in fewer iterations
    arma::vec bg(3, arma::fill::zeros);
    const Summary sg = solve(p, bg, {});
    CHECK(arma::norm(b - bg, "inf") <= 1e-10);
    CHECK(s.iterations < sg.iterations);
  }
}
