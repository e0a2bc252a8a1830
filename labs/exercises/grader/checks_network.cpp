// Checks of the network tasks: the naive backend's layer forward and backward, the shape
// convention, logistic regression's gradient.  References: the matrix backend's forward and
// cost (Armadillo products, no exercise), central differences, formulas worked out by hand.
#include "check.hpp"

#include "nnlab/backends/backend.hpp"
#include "nnlab/backends/naive.hpp"
#include "nnlab/core/shape.hpp"
#include "nnlab/methods/logistic.hpp"


using namespace nnlab;
using ex::rnd;

namespace {
Layer<double> layer(Activation g, arma::uword n, arma::uword k, unsigned seed) {
  return {g, rnd(n, k, seed), arma::vec(rnd(n, 1, seed + 1))};
}
}  // namespace

NNLAB_CHECK("naive-forward", "Z = W A + b, A = g(Z) for a 3x4 layer on 5 samples (elu, softplus, softmax)") {
  for (Activation g : {Activation::elu, Activation::softplus, Activation::softmax}) {
    const auto L = layer(g, 3, 4, 50);
    const arma::mat Ain = rnd(4, 5, 52);
    arma::mat Z, A;
    ex::guarded("naive::layer_forward", [&] { naive::layer_forward(L, Ain, Z, A); });
    arma::mat Zw = L.W * Ain;
    Zw.each_col() += L.b;
    arma::mat Aw;
    activate(g, Zw, Aw);
    const std::string where = std::string(" (g = ") + std::string(name(g)) + ")";
    ex::expect_close("Z", Z, Zw, 1e-14, 1e-14, where, {},
                     {{L.W * Ain, "the bias b is missing: z_i = sum_j W(i,j) A(j,t) + b_i"}});
    ex::expect_close("A", A, Aw, 1e-14, 1e-14, where, {}, {{Zw, "A = g(Z): the activation is missing"}});
  }
}

NNLAB_CHECK("naive-backward", "one layer: dW = dZ A', db = dZ summed over samples, dA = W' dZ, against finite differences") {
  const auto L = layer(Activation::identity, 3, 4, 60);
  const arma::mat Ain = rnd(4, 5, 62), dZ = rnd(3, 5, 63);
  arma::mat dW, dAin;
  arma::vec db;
  ex::guarded("naive::layer_backward", [&] { naive::layer_backward(L, Ain, dZ, dW, db, &dAin); });
  // phi = sum(dZ o Z) with Z = W A + b: dphi/dW = dZ A', dphi/db = dZ 1, dphi/dA = W' dZ.
  auto phi = [&](const arma::mat& W, const arma::vec& b, const arma::mat& A) {
    arma::mat Z = W * A;
    Z.each_col() += b;
    return arma::accu(dZ % Z);
  };
  const arma::mat fW = ex::fd_gradient([&](const arma::mat& W) { return phi(W, L.b, Ain); }, L.W);
  const arma::mat fb = ex::fd_gradient([&](const arma::mat& b) { return phi(L.W, b, Ain); }, L.b);
  const arma::mat fA = ex::fd_gradient([&](const arma::mat& A) { return phi(L.W, L.b, A); }, Ain);
  const double m = 5;
  const std::vector<ex::Ratio> ratios = {
      {1 / m, "m = 5 times too small: divided by m? dZ is already dJ/dZ and carries the cost's 1/m"},
      {m, "m = 5 times too large"}};
  ex::expect_close("dW", dW, fW, 1e-9, 1e-11, "", ratios);
  ex::expect_close("db", arma::mat(db), fb, 1e-9, 1e-11, "", ratios,
                   {{arma::mat(dZ.col(0)), "db is the sum of dZ over all the samples (columns), not one column"}});
  ex::expect_close("dA", dAin, fA, 1e-9, 1e-11, "", ratios,
                   {{arma::mat(L.W.t() * dZ / m), "dA = W' dZ has no 1/m"}});
}

NNLAB_CHECK("naive-backward", "a 3-4-3-2 network (elu, atan, identity, mse): backprop's dW and db against finite differences of J") {
  Network<double> net;
  net.loss = Loss::mse;
  net.layers = {layer(Activation::elu, 4, 3, 70), layer(Activation::atan, 3, 4, 72), layer(Activation::identity, 2, 3, 74)};
  const arma::mat X = rnd(3, 6, 76), Y = rnd(2, 6, 77);
  const double m = 6;
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> c;
  be->forward(net, X, c);  // Z, A from the matrix backend: no exercise in them
  std::vector<arma::mat> Z = c.Z, A = c.A, dZ(3), dA(3), dW;
  std::vector<arma::vec> db;
  for (std::size_t l = 0; l < 3; ++l) { dZ[l].set_size(arma::size(Z[l])); dA[l].set_size(arma::size(Z[l])); }
  dZ[2] = (A[2] - Y) / m;  // J = (1/m) sum 0.5 ||a - y||^2 and an identity output layer
  arma::mat dX;
  ex::guarded("naive::backprop", [&] { naive::backprop(net, X, Z, A, dZ, dA, dW, db, &dX); });
  Cache<double> cf;
  auto J = [&](const Network<double>& n) { return be->value(n, X, Y, cf); };
  for (std::size_t l = 0; l < 3; ++l) {
    const std::string where = " of layer " + std::to_string(l + 1);
    const arma::mat fW = ex::fd_gradient([&](const arma::mat& W) { auto n = net; n.layers[l].W = W; return J(n); },
                                         net.layers[l].W);
    const arma::mat fb = ex::fd_gradient([&](const arma::mat& b) { auto n = net; n.layers[l].b = b; return J(n); },
                                         net.layers[l].b);
    const std::vector<ex::Ratio> ratios = {
        {1 / m, "m = 6 times too small: divided by m twice? dZ already carries the cost's 1/m"}};
    ex::expect_close("dW", dW[l], fW, 1e-8, 1e-10, where, ratios);
    ex::expect_close("db", arma::mat(db[l]), fb, 1e-8, 1e-10, where, ratios);
  }
  const arma::mat fX = ex::fd_gradient([&](const arma::mat& Xv) { return be->value(net, Xv, Y, cf); }, X);
  ex::expect_close("dX", dX, fX, 1e-8, 1e-10, " (dA of layer 0 = W1' dZ1)");
}

NNLAB_CHECK("shape-convention", "to_shape: the 1 x nm row (W row by row) back to n x m") {
  const arma::rowvec J = arma::regspace<arma::rowvec>(1, 6);
  arma::mat got;
  ex::guarded("to_shape(1..6, 2, 3)", [&] { got = to_shape(J, 2, 3); });
  ex::expect_close("to_shape(1..6, 2, 3)", got, arma::mat{{1, 2, 3}, {4, 5, 6}}, 0, 0, "", {},
                   {{arma::mat{{1, 3, 5}, {2, 4, 6}}, "read column by column: the lecture lists W row by row, "
                                                      "(w11, ..., w1m, w21, ...), so entry (i, j) is J[i m + j]"}});
}

NNLAB_CHECK("shape-convention", "ds/dW of s = u' atan(W x + b) by finite differences, shaped, equals (u o f'(z)) x'") {
  const arma::uword n = 3, m = 4;
  const arma::mat W = rnd(n, m, 80);
  const arma::vec b = rnd(n, 1, 81), x = rnd(m, 1, 82), u = rnd(n, 1, 83);
  auto s = [&](const arma::vec& wrow) {  // W listed row by row
    arma::mat Wm(n, m);
    for (arma::uword i = 0; i < n; ++i)
      for (arma::uword j = 0; j < m; ++j) Wm(i, j) = wrow[i * m + j];
    return arma::vec{arma::dot(u, arma::atan(Wm * x + b))};
  };
  arma::vec wrow(n * m);
  for (arma::uword i = 0; i < n; ++i)
    for (arma::uword j = 0; j < m; ++j) wrow[i * m + j] = W(i, j);
  const arma::rowvec J = ex::fd_jacobian(s, wrow);  // 1 x nm
  arma::mat got;
  ex::guarded("to_shape(J, 3, 4)", [&] { got = to_shape(J, n, m); });
  const arma::vec z = W * x + b, S = u / (1 + z % z);  // u o f'(z), f = atan
  ex::expect_close("to_shape(ds/dW)", got, S * x.t(), 1e-8, 1e-11, "", {},
                   {{arma::reshape(J, n, m), "read column by column: the lecture lists W row by row"}});
}

NNLAB_CHECK("logistic-gradient", "dL/dw = (1/m) sum (a - y) x', dL/db = (1/m) sum (a - y), against central differences") {
  const arma::mat X = rnd(2, 9, 90);
  const arma::rowvec y = {1, 0, 0, 1, 1, 0, 1, 0, 1};
  const arma::rowvec w = {0.4, -0.7};
  const double b = 0.2, m = 9;
  auto L = [&](const arma::rowvec& wv, double bv) {  // the log-loss, written here again
    double s = 0;
    for (arma::uword i = 0; i < X.n_cols; ++i) {
      const double a = 1 / (1 + std::exp(-(arma::dot(wv, X.col(i)) + bv)));
      s -= y[i] * std::log(a) + (1 - y[i]) * std::log(1 - a);
    }
    return s / m;
  };
  logistic::Gradient g;
  ex::guarded("logistic::gradient", [&] { g = logistic::gradient(X, y, w, b); });
  const arma::mat fw = ex::fd_gradient([&](const arma::mat& v) { return L(arma::rowvec(v), b); }, arma::mat(w));
  const double fb = ex::fd_gradient([&](const arma::mat& v) { return L(w, v(0, 0)); }, arma::mat{b})(0, 0);
  const std::vector<ex::Ratio> ratios = {{m, "m = 9 times too large: the cost is a mean, (1/m) sum"},
                                         {1 / m, "m = 9 times too small: divided by m twice?"}};
  ex::expect_close("dL/dw", arma::mat(g.dw), fw, 1e-8, 1e-11, "", ratios);
  ex::expect_close("dL/db", g.db, fb, 1e-8, 1e-11, "", ratios);
}
