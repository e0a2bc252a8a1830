// Lab 10 -- One neuron is a hyperplane; when one hyperplane is not enough; the SVM.
//   1. separability as a linear program, and its Farkas certificate when no plane exists
//   2. the lectures' four points: no plane, but a 2-layer ReLU network (hand-built, trained)
//   3. stacking linear layers collapses to one; a ReLU in between does not
//   4. the SVM: the exact QP solution against SGD on the hinge loss with L2
// Data: two Gaussian clouds, N = 24, centres +-(2.5, 1.25), arma seed 10.
// Writes results/10_hyperplanes_svm/{points,svm_lines,sgd_margin}.csv, svm_margin.png.
#include "nnlab/backends/backend.hpp"
#include "common/sheet.hpp"
#include "nnlab/methods/optim.hpp"
#include "common/plot.hpp"
#include "nnlab/methods/separation.hpp"

#include <cstdio>

using namespace nnlab;
using namespace nnlab::sep;

int main() {
  lab::Sheet s("10_hyperplanes_svm", "Hyperplanes, the non-separable four points, the SVM");

  s.section("1. Is there a plane?  A linear program answers, with a proof either way");
  s.say("Find w, b with y_n (w.x_n + b) > 0 for all n.  Scaling makes > 0 into >= 1, so solve\n"
        "  min t  s.t.  y_n (w.x_n + b) + t >= 1,  t >= 0      (GLPK, then its exact simplex).\n"
        "t* = 0: (w, b) separates.  t* > 0: the dual multipliers lambda >= 0 (here lambda names the\n"
        "LP's multipliers, one per point; in section 4 it is the SVM's regularisation weight) satisfy\n"
        "sum_n lambda_n y_n [x_n; 1] = 0 (Farkas), and then any plane would give\n"
        "0 = sum_n lambda_n y_n (w.x_n + b) > 0: impossible.");
  arma::arma_rng::set_seed(10);
  const std::size_t N = 24;
  arma::mat X = arma::randn(N, 2);
  arma::vec y(N);
  for (std::size_t n = 0; n < N; ++n) {
    y[n] = n % 2 ? 1.0 : -1.0;
    X(n, 0) += 2.5 * y[n];
    X(n, 1) += 1.25 * y[n];
  }
  const auto sepr = linear_separation(X, y);
  s.show("t* for the two clouds", sepr.t);
  s.show("plane w", arma::mat(sepr.w.t()));
  s.show("b", sepr.b);
  s.check("the LP plane separates the clouds: min_n y_n (w.x_n + b) >= 1",
          min_signed_margin(X, y, sepr.w, sepr.b) >= 1 - 1e-9);

  s.section("2. The lectures' four points: (1,0), (-1,0) -> +1;  (0,1), (0,-1) -> -1");
  const arma::mat P = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
  const arma::vec py = {1, 1, -1, -1};
  const auto four = linear_separation(P, py);
  s.show("t*", four.t);
  s.show("certificate lambda", arma::mat(four.lambda.t()));
  s.show("sum_n lambda_n y_n [x_n; 1]", arma::mat((arma::join_rows(P, arma::ones(4)).t() * (four.lambda % py)).t()));
  s.check("no plane separates them (t* > 0)", !four.separable && four.t > 0.5);
  s.check("the certificate verifies independently: lambda >= 0, sum 1, sum lambda y [x;1] = 0",
          farkas_residual(P, py, four.lambda) <= 1e-12);
  s.say("Why, by hand: with lambda = 1/4 each, w.(1,0) + b + w.(-1,0) + b - w.(0,1) - b - w.(0,-1) - b\n"
        "= 0, so the four quantities y_n (w.x_n + b) cannot all be positive.");
  s.say("\nTwo layers can: f(x) = |x1| - |x2| = relu(x1) + relu(-x1) - relu(x2) - relu(-x2).");
  Network<double> hand;
  hand.loss = Loss::hinge;
  hand.layers.push_back({Activation::relu, arma::mat{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}, arma::vec(4, arma::fill::zeros)});
  hand.layers.push_back({Activation::identity, arma::mat{{1, 1, -1, -1}}, arma::vec{0.0}});
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> c;
  be->forward(hand, P.t(), c);
  s.show("f(x_n) for the hand-built network", c.A.back());
  s.check("hand-built: y_n f(x_n) >= 1 for all four", arma::all(py.t() % c.A.back() >= 1));
  s.say("Trained instead: a 2-4-1 ReLU network from a random start (seed 10), hinge loss, Adam.");
  Network<double> tr = random_network<double>({2, 4, 1}, {Activation::relu, Activation::identity}, Loss::hinge, 10, 1.0);
  optim::Adam<double> adam(0.05);
  Grads<double> g;
  double J = 0;
  int it = 0;
  for (; it < 2000; ++it) {
    J = be->value_and_grad(tr, P.t(), py.t(), c, g);
    if (J == 0) break;  // every margin >= 1
    adam.update(tr, g);
  }
  be->forward(tr, P.t(), c);
  s.show("iterations until the hinge loss is 0", double(it));
  s.show("f(x_n) for the trained network", c.A.back());
  s.check("trained: every point on its side (y_n f(x_n) > 0)", arma::all(py.t() % c.A.back() > 0));

  s.section("3. Stacking linear layers collapses");
  arma::arma_rng::set_seed(3);
  const arma::mat A = arma::randn(4, 3), A2 = arma::randn(2, 4);
  const arma::vec b = arma::randn(4), b2 = arma::randn(2), u = arma::randn(3);
  const arma::vec two = A2 * (A * u + b) + b2, one = (A2 * A) * u + (A2 * b + b2);
  s.show("A'(Au + b) + b'", arma::mat(two.t()));
  s.show("(A'A)u + (A'b + b')", arma::mat(one.t()));
  s.check("two linear layers are one linear layer (to round-off)", arma::norm(two - one, "inf") <= 1e-13);
  const arma::vec relu_between = A2 * arma::clamp(A * u + b, 0, arma::datum::inf) + b2;
  s.show("A' relu(Au + b) + b'", arma::mat(relu_between.t()));
  s.check("with a ReLU in between they differ", arma::norm(relu_between - one, "inf") > 1e-3);

  s.section("4. The SVM: min w'w  s.t.  y_n (w.x_n + b) >= 1;  margin = 1/||w||");
  const auto svm = svm_exact(X, y);
  s.say("Exact: the optimum is fixed by at most D + 1 = 3 support vectors; every such set is\n"
        "tried through the KKT conditions (w = sum alpha_n y_n x_n, sum alpha_n y_n = 0, alpha >= 0).");
  s.show("w", arma::mat(svm.w.t()));
  s.show("b", svm.b);
  s.show("margin 1/||w||", svm.margin);
  std::string sv;
  for (auto i : svm.support) sv += std::to_string(i + 1) + " ";
  s.show("support vectors (rows)", sv);
  s.check_close("strong duality: w'w = sum alpha", arma::dot(svm.w, svm.w), arma::accu(svm.alpha), 1e-10);
  s.say("SGD on F = (1/N) sum relu(1 - y_n (w.x_n + b)) + (lambda/2)||w||^2 with step 1/(lambda t)\n"
        "(lambda here: the weight of the regulariser, not the step of gradient descent)\n"
        "(Pegasos).  With lambda <= 1/(N max alpha*) the minimiser of F is exactly the SVM.");
  const double lambda = 0.5 / (double(N) * svm.alpha.max());
  SgdTrace trace;
  const auto sgd = svm_sgd(X, y, lambda, 200000000, 10, &trace);
  s.show("lambda", lambda);
  s.show("SGD margin after 2e8 steps", sgd.margin);
  s.check_close("SGD reaches the exact margin to 1e-6", sgd.margin, svm.margin, 0, 1e-6);
  arma::vec err(trace.margin.size());
  for (std::size_t i = 0; i < err.n_elem; ++i) err[i] = std::max(std::abs(trace.margin[i] - svm.margin), 1e-17);
  s.wrote(plot::write_table(s.id(), "sgd_margin.csv", {"step", "margin", "abs_error"},
                            {arma::vec(trace.step), arma::vec(trace.margin), err}));
  s.wrote(plot::write_table(s.id(), "points.csv", {"x1", "x2", "y", "support"},
                            {arma::vec(X.col(0)), arma::vec(X.col(1)), y, arma::conv_to<arma::vec>::from(svm.alpha > 1e-9)}));
  // The lines w.x + b = c for c = -1, 0, 1 as two end points each, over x1 in [-6, 6].
  arma::vec lx, ly, lc;
  for (double cc : {-1.0, 0.0, 1.0})
    for (double x1 : {-6.0, 6.0}) {
      lx.resize(lx.n_elem + 1); ly.resize(ly.n_elem + 1); lc.resize(lc.n_elem + 1);
      lx(lx.n_elem - 1) = x1;
      ly(ly.n_elem - 1) = (cc - svm.b - svm.w[0] * x1) / svm.w[1];
      lc(lc.n_elem - 1) = cc;
    }
  s.wrote(plot::write_table(s.id(), "svm_lines.csv", {"x1", "x2", "level"}, {lx, ly, lc}));
  s.wrote(plot::render(s.id(), "svm_margin"));
  return s.finish();
}
