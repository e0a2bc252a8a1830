// Lab 04 -- The vectorised 2-layer sigmoid network of the lectures, written out:
//   Z1 = W1 X + b1, A1 = sigma(Z1), Z2 = W2 A1 + b2, A2 = sigma(Z2), log-loss;
//   dZ2 = A2 - Y, dW2 = dZ2 A1'/m, db2 = sum(dZ2, axis 1)/m,
//   dZ1 = W2' dZ2 o sigma'(Z1), dW1 = dZ1 X'/m, db1 = sum(dZ1, axis 1)/m.
// Checked against the library's backends; trained on moons (not linearly separable) from
// zero initialisation and from randn * 0.01: the symmetry problem, in numbers and a plot.
// Data: moons, m = 400, noise 0.15, seed 4.  Writes results/04_two_layer_network/*.csv, two_layer.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/formats/data.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cstdio>

using namespace nnlab;

namespace {
struct Two { arma::mat W1, W2; arma::vec b1, b2; };
arma::mat sig(const arma::mat& Z) { return 1 / (1 + arma::exp(-Z)); }
// One forward + backward pass in the lectures' notation; returns the cost, fills the gradients.
double pass(const Two& p, const arma::mat& X, const arma::rowvec& Y, Two& d) {
  const double m = double(X.n_cols);
  arma::mat Z1 = p.W1 * X;
  Z1.each_col() += p.b1;
  const arma::mat A1 = sig(Z1);
  arma::mat Z2 = p.W2 * A1;
  Z2.each_col() += p.b2;
  const arma::mat A2 = sig(Z2);
  const double L = -arma::accu(Y % arma::log(A2) + (1 - Y) % arma::log(1 - A2)) / m;
  const arma::mat dZ2 = A2 - arma::mat(Y);
  d.W2 = dZ2 * A1.t() / m;
  d.b2 = arma::sum(dZ2, 1) / m;
  const arma::mat dZ1 = (p.W2.t() * dZ2) % (A1 % (1 - A1));
  d.W1 = dZ1 * X.t() / m;
  d.b1 = arma::sum(dZ1, 1) / m;
  return L;
}
}  // namespace

int main() {
  lab::Sheet s("04_two_layer_network", "The vectorised 2-layer network and the symmetry problem");
  const auto ds = data::moons(400, 0.15, 4);
  const arma::mat& X = ds.X;
  const arma::rowvec Y = data::encode(ds, Loss::bce, 1);
  const std::size_t nh = 8;

  s.section("1. The lectures' equations against the library");
  s.say("Z[1] = W[1] X + b[1], A[1] = sigma(Z[1]), Z[2] = W[2] A[1] + b[2], A[2] = sigma(Z[2]) (n^[0] = 2,\n"
        "n^[1] = 8, n^[2] = 1, m = 400), L = -(1/m) sum y log A[2] + (1 - y) log(1 - A[2]);\n"
        "dZ[2] = A[2] - Y, dW[2] = (1/m) dZ[2] A[1]', db[2] = (1/m) np.sum(dZ[2], axis=1, keepdims=True),\n"
        "dZ[1] = W[2]' dZ[2] * g'(Z[1]), dW[1] = (1/m) dZ[1] X', db[1] = (1/m) np.sum(dZ[1], axis=1, keepdims=True).\n"
        "Where the notes slip (each line below is what this lab computes and checks):\n"
        "  db[1] with 1/n: it is 1/m, like every term of the mean cost;\n"
        "  'w[1] = alpha dL/dw[1]': the update is w[1] = w[1] - alpha dL/dw[1];\n"
        "  'dZ_2 = -(1/m) sum (A[2] - y)': the sign is +, dZ[2] = A[2] - Y (the 1/m then goes in dW, db);\n"
        "  'dL/dW[2] = (1/m) sum (A[2] - y) A[2]': the factor is A[1]', the layer's input;\n"
        "  'dz[c-1] = W[c] dz[c] x A(1 - A)' and 'z[2] = w[2] z[1] + b[2]': W[c]' (transposed), and A[1].");
  arma::arma_rng::set_seed(4);
  Two p{arma::randn(nh, 2) * 0.5, arma::randn(1, nh) * 0.5, arma::randn(nh) * 0.1, arma::randn(1) * 0.1}, d;
  const double L = pass(p, X, Y, d);
  Network<double> net;
  net.loss = Loss::bce;
  net.layers.push_back({Activation::sigmoid, p.W1, p.b1});
  net.layers.push_back({Activation::sigmoid, p.W2, p.b2});
  for (BackendKind k : kAllBackends) {
    Cache<double> c;
    Grads<double> g;
    const double J = make_backend<double>(k)->value_and_grad(net, X, Y, c, g);
    const double e = std::max({std::abs(J - L) / L, arma::norm(g.dW[0] - d.W1, "inf"), arma::norm(g.dW[1] - d.W2, "inf"),
                               arma::norm(g.db[0] - d.b1, "inf"), arma::norm(g.db[1] - d.b2, "inf")});
    s.check(std::string(name(k)) + " backend gives the same cost and gradients (max diff " + lab::fmt(e, 2) + ")", e <= 1e-13);
  }

  s.section("2. Broadcasting y, and keepdims");
  {
    s.say("dZ[2] = A[2] - Y subtracts a 1 x m row from an n^[2] x m matrix: the row is repeated on every\n"
          "row (broadcasting).  With n^[2] = 3 outputs and m = 4:");
    const arma::mat A2 = {{0.9, 0.2, 0.6, 0.4}, {0.1, 0.7, 0.5, 0.3}, {0.8, 0.6, 0.2, 0.9}};
    const arma::rowvec y = {1, 0, 1, 0};
    const arma::mat dZ = A2.each_row() - y;
    s.show("A2 - y (each row minus y)", dZ, 3);
    s.check_equal("= A2 - [y; y; y], y repeated n^[2] times", dZ, A2 - arma::repmat(y, 3, 1), 0);
    const arma::vec db = arma::sum(dZ, 1) / 4.0;
    s.say("db = (1/m) np.sum(dZ, axis=1, keepdims=True) keeps an n x 1 column (Armadillo's sum(dZ, 1)\n"
          "is one).  Without keepdims numpy returns a rank-1 array of shape (n,), which broadcasts as a\n"
          "ROW: b - alpha db then becomes n x n, a matrix of biases, with no error.  Emulated here:");
    const arma::vec b = {0.1, -0.2, 0.3};
    const arma::mat right = b - 0.5 * db;
    const arma::mat wrong = arma::repmat(b, 1, 3) - 0.5 * arma::repmat(db.t(), 3, 1);  // (n,1) - (n,) in numpy
    s.show("b - alpha db with keepdims (3 x 1)", right, 4);
    s.show("b - alpha db with a rank-1 db (3 x 3)", wrong, 4);
    s.check("keepdims keeps b's shape; the rank-1 version silently makes it 3 x 3", right.n_cols == 1 && wrong.n_cols == 3);
  }

  s.section("3. Zero initialisation against randn * 0.01");
  s.say("With W = 0 every hidden unit computes the same function and receives the same gradient,\n"
        "so after any number of steps they are still identical: the network has one hidden unit.");
  const int iters = 10000;
  const double lr = 3.0;
  arma::vec it(iters / 50 + 1), spread_zero(iters / 50 + 1), spread_small(iters / 50 + 1), cost_zero(iters / 50 + 1),
      cost_small(iters / 50 + 1);
  Two zero{arma::zeros(nh, 2), arma::zeros(1, nh), arma::zeros(nh), arma::zeros(1)};
  arma::arma_rng::set_seed(40);
  Two small{arma::randn(nh, 2) * 0.01, arma::randn(1, nh) * 0.01, arma::zeros(nh), arma::zeros(1)};
  for (int k = 0; k <= iters; ++k) {
    Two dz, dsm;
    const double Lz = pass(zero, X, Y, dz), Ls = pass(small, X, Y, dsm);
    if (k % 50 == 0) {
      const int r = k / 50;
      it[r] = k;
      // spread of the hidden units: largest distance of a row of W1 from the mean row
      spread_zero[r] = arma::max(arma::sqrt(arma::sum(arma::square(zero.W1.each_row() - arma::mean(zero.W1, 0)), 1)));
      spread_small[r] = arma::max(arma::sqrt(arma::sum(arma::square(small.W1.each_row() - arma::mean(small.W1, 0)), 1)));
      cost_zero[r] = Lz;
      cost_small[r] = Ls;
    }
    for (Two* q : {&zero, &small}) {
      const Two& g = q == &zero ? dz : dsm;
      q->W1 -= lr * g.W1; q->b1 -= lr * g.b1; q->W2 -= lr * g.W2; q->b2 -= lr * g.b2;
    }
  }
  auto acc = [&](const Two& q) {
    arma::mat Z1 = q.W1 * X;
    Z1.each_col() += q.b1;
    arma::mat Z2 = q.W2 * sig(Z1);
    Z2.each_col() += q.b2;
    return arma::mean(arma::conv_to<arma::rowvec>::from((sig(Z2) > 0.5) == (Y > 0.5)));
  };
  s.show("zero init: max distance between hidden units after 10000 steps", spread_zero.tail(1)(0));
  s.show("randn*0.01: max distance between hidden units after 10000 steps", spread_small.tail(1)(0));
  s.show("zero init: cost", cost_zero.tail(1)(0));
  s.show("zero init: accuracy", acc(zero));
  s.show("randn*0.01: cost", cost_small.tail(1)(0));
  s.show("randn*0.01: accuracy", acc(small));
  s.check("zero init: the hidden units stay exactly identical", spread_zero.max() == 0);
  s.check("randn*0.01: the hidden units separate", spread_small.tail(1)(0) > 1);
  s.check("randn*0.01 reaches a lower cost than zero init", cost_small.tail(1)(0) < 0.8 * cost_zero.tail(1)(0));
  s.check("randn*0.01 classifies the moons (accuracy > 0.95)", acc(small) > 0.95);
  s.wrote(plot::write_table(s.id(), "symmetry.csv", {"iter", "spread_zero", "spread_small", "cost_zero", "cost_small"},
                            {it, spread_zero, spread_small, cost_zero, cost_small}));
  s.section("4. Why small: the flat parts of the sigmoid");
  {
    s.say("The notes take randn * 0.01 'to have small numbers, to avoid the flat parts of the activation\n"
          "functions'.  With large weights |Z[1]| is large, sigma'(Z[1]) = A (1 - A) is near 0, and dZ[1] =\n"
          "W[2]' dZ[2] * sigma'(Z[1]) with it: the first layer hardly learns.  The same 2000 steps with\n"
          "W[1] = randn times 0.01, 1, 10 and 100 (W[2] = randn * 0.01 in all four; seed 41):");
    std::printf("  %8s %16s %18s %12s %10s\n", "scale", "mean sigma'(Z1)", "||dW1|| at start", "cost", "accuracy");
    arma::vec meansp(4), cost(4), accs(4), g0(4);
    const double scales[] = {0.01, 1, 10, 100};
    for (int k = 0; k < 4; ++k) {
      arma::arma_rng::set_seed(41);
      Two q{arma::randn(nh, 2) * scales[k], arma::randn(1, nh) * 0.01, arma::zeros(nh), arma::zeros(1)};
      arma::mat Z1 = q.W1 * X;
      Z1.each_col() += q.b1;
      const arma::mat A1 = sig(Z1);
      meansp[k] = arma::mean(arma::vectorise(A1 % (1 - A1)));
      double Lk = 0;
      for (int t = 0; t < 2000; ++t) {
        Two dq;
        Lk = pass(q, X, Y, dq);
        if (t == 0) g0[k] = arma::norm(dq.W1, "fro");
        q.W1 -= lr * dq.W1; q.b1 -= lr * dq.b1; q.W2 -= lr * dq.W2; q.b2 -= lr * dq.b2;
      }
      cost[k] = Lk;
      accs[k] = acc(q);
      std::printf("  %8g %16.4f %18.3e %12.4f %10.4f\n", scales[k], meansp[k], g0[k], cost[k], accs[k]);
    }
    s.check("scale 100: the mean sigma'(Z1) is 1/20 of its value at 0.01 or less (the flat parts)", meansp[3] <= meansp[0] / 20);
    s.check("scale 100: ||dW1|| at the start is 1/20 of scale 0.01's or less", g0[3] <= g0[0] / 20);
    s.check("scale 100: after 2000 steps the cost is over 3x scale 0.01's", cost[3] > 3 * cost[0]);
    s.check("scales 1 and 10 end with a cost no higher than scale 0.01's", cost[1] <= cost[0] && cost[2] <= cost[0]);
    s.say("The sigmoid is not flat enough at scale 10 to stall two inputs and 8 units: small weights are\n"
          "the safe choice the notes recommend, not the fastest one here; the stall comes at scale 100,\n"
          "where the mean sigma'(Z1) has fallen to " + lab::fmt(meansp[3], 2) + ".");
  }

  // Decision regions of the trained network on a grid.
  const arma::vec t1 = arma::regspace(-1.6, 0.04, 2.6), t2 = arma::regspace(-1.2, 0.04, 1.7);
  arma::mat G(2, t1.n_elem * t2.n_elem);
  for (arma::uword i = 0, k = 0; i < t1.n_elem; ++i)
    for (arma::uword j = 0; j < t2.n_elem; ++j, ++k) { G(0, k) = t1[i]; G(1, k) = t2[j]; }
  arma::mat Z1 = small.W1 * G;
  Z1.each_col() += small.b1;
  arma::mat Z2 = small.W2 * sig(Z1);
  Z2.each_col() += small.b2;
  s.wrote(plot::write_table(s.id(), "regions.csv", {"x1", "x2", "a"}, {arma::vec(G.row(0).t()), arma::vec(G.row(1).t()), arma::vec(sig(Z2).t())}));
  s.wrote(plot::write_table(s.id(), "points.csv", {"x1", "x2", "y"}, {arma::vec(X.row(0).t()), arma::vec(X.row(1).t()), arma::vec(Y.t())}));
  s.wrote(plot::render(s.id(), "two_layer"));
  return s.finish();
}
