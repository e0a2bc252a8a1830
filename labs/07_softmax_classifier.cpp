// Lab 07 -- A softmax classifier with one hidden ReLU layer:
//   z = W1 x + b1, h = relu(z), o = W2 h + b2, p = softmax(o), L = -log p_y (+ l1 |W| + l2 W^2).
// dL/do = softmax(o) - onehot(y), dL/dh = W2' dL/do, dL/dz = dL/dh o relu'(z), dL/dW1 = dL/dz x',
// dL/db1 = dL/dz, dL/dx = W1' dL/dz, and the regularisation gradient l1 sign(W) + 2 l2 W --
// each shown and checked.  Then trained on spirals (3 classes) and on Fashion-MNIST (a
// 10,000-image subset, 8 epochs, to stay under a minute), with learning curves and a confusion
// matrix on the test set.  Seeds: 7 everywhere.
// Writes results/07_softmax_classifier/{curves_*,confusion}.csv and softmax.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/formats/data.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"
#include "nnlab/methods/train.hpp"

#include <cstdio>

using namespace nnlab;

int main() {
  lab::Sheet s("07_softmax_classifier", "Softmax classification: gradients, L1/L2, spirals and Fashion-MNIST");

  s.section("1. The TD, question by question (one sample, d = 2 inputs, d_h = 5, m = 3 classes)");
  const auto net0 = random_network<double>({2, 5, 3}, {Activation::relu, Activation::softmax}, Loss::ce, 7, 0.8);
  const arma::vec x = {0.7, -1.2};
  const arma::uword y = 3;            // the TD's classes are 1..m
  const arma::uword cls = y - 1;      // the index of class y, from 0 (TD #8: np.eye(m)[y - 1])
  arma::vec onehot(3, arma::fill::zeros);
  onehot[cls] = 1;
  const arma::mat& W1 = net0.layers[0].W;
  const arma::mat& W2 = net0.layers[1].W;
  std::printf("  #1 h^a = b(1) + W(1) x, W(1) %zux%zu (d_h x d), b(1) in R^%zu;  h^a_j = b(1)_j + sum_k W(1)_jk x_k\n",
              std::size_t(W1.n_rows), std::size_t(W1.n_cols), std::size_t(net0.layers[0].b.n_elem));
  const arma::vec z = W1 * x + net0.layers[0].b, h = arma::clamp(z, 0, arma::datum::inf);
  double hj = net0.layers[0].b[1];
  for (arma::uword k = 0; k < 2; ++k) hj += W1(1, k) * x[k];
  s.check_close("     h^a_2 by the sum = entry 2 of the matrix form", hj, z[1], 1e-15);
  std::printf("     h^s = relu(h^a)\n  #2 W(2) %zux%zu (m x d_h), b(2) in R^%zu, o^a = b(2) + W(2) h^s\n", std::size_t(W2.n_rows),
              std::size_t(W2.n_cols), std::size_t(net0.layers[1].b.n_elem));
  const arma::vec o = W2 * h + net0.layers[1].b;
  const arma::vec p = arma::exp(o - o.max()) / arma::accu(arma::exp(o - o.max()));
  s.show("#3 o^s = softmax(o^a), shown as a row", arma::mat(p.t()));
  s.check("   every o^s_k > 0 and they sum to 1 (a distribution P(Y = k | x))", arma::all(p > 0) && std::abs(arma::accu(p) - 1) < 1e-15);
  const double lse = o.max() + std::log(arma::accu(arma::exp(o - o.max())));
  s.check_close("#4 L = -log o^s_y = log(sum_i exp(o^a_i)) - o^a_y (y = 3)", -std::log(p[cls]), lse - o[cls], 1e-14);
  std::printf("  #5 R = (1/n) sum_i L(x^(i), y^(i)), Theta = {W(1), b(1), W(2), b(2)},\n"
              "     n_theta = d_h d + d_h + m d_h + m = %zu\n", std::size_t(5 * 2 + 5 + 3 * 5 + 3));
  s.check("     = the library's parameter count", net0.n_params() == 5 * 2 + 5 + 3 * 5 + 3);
  s.say("  #6 gradient descent: initialise theta; repeat: theta <- theta - eta (1/n) sum_i dL(x^(i), y^(i))/dtheta\n"
        "     (sections 3 and 4 run it, with Adam's update)");
  const arma::vec dLdo = p - onehot;
  s.show("#7 dL/do^a = o^s - onehot_m(y), shown as a row", arma::mat(dLdo.t()));
  auto L_of_o = [&](const arma::vec& oo) { return -(oo[cls] - oo.max() - std::log(arma::accu(arma::exp(oo - oo.max())))); };
  double e = 0;
  for (int k = 0; k < 3; ++k)
    e = std::max(e, std::abs(dLdo[k] - fd_central([&](double v) { arma::vec oo = o; oo[k] = v; return L_of_o(oo); }, o[k], 1e-3, 4)));
  s.check("   dL/do^a matches central differences (1e-10)", e <= 1e-10);
  arma::mat eye3 = arma::eye(3, 3);
  s.check_equal("#8 numpy: o_s - np.eye(m)[y - 1]: row y - 1 of the identity is onehot(y)", arma::mat(p - eye3.col(y - 1)), dLdo, 0);
  const arma::vec dLdh = W2.t() * dLdo;
  s.show("#11-12 dL/dh^s = W(2)' (o^s - onehot), d_h x 1, shown as a row (numpy W2.T @ grad_oa)", arma::mat(dLdh.t()));
  s.check_close("       entry 1 = sum_k o^s_k W(2)_k1 - W(2)_y1", dLdh[0], arma::dot(p, W2.col(0)) - W2(cls, 0), 1e-15);
  arma::vec dLdz = dLdh % arma::conv_to<arma::vec>::from(z > 0);
  dLdz.transform([](double v) { return v == 0 ? 0.0 : v; });  // -0 from a negative times 0, shown as 0
  s.show("#13-14 dL/dh^a = dL/dh^s o 1{h^a > 0}, shown as a row (np.multiply(grad_hs, h_a > 0))", arma::mat(dLdz.t()));
  const arma::mat dLdW1 = dLdz * x.t();
  const arma::vec dLdx = W1.t() * dLdz;
  s.show("#15-16 dL/dW(1) = dL/dh^a x' (np.outer(grad_ha, x)), d_h x d", dLdW1);
  s.say("       dL/db(1) = dL/dh^a;  #17 dL/dx = W(1)' dL/dh^a");
  Cache<double> c;
  Grads<double> g;
  make_backend<double>(BackendKind::graph)->value_and_grad(net0, arma::mat(x), arma::mat(onehot), c, g, true);
  s.check("dL/dW(1), dL/db(1), dL/dx by hand = the graph backend's (1e-15)",
          arma::norm(g.dW[0] - dLdW1, "inf") <= 1e-15 && arma::norm(g.db[0] - dLdz, "inf") <= 1e-15 &&
              arma::norm(g.dX - dLdx, "inf") <= 1e-15);
  s.check("dL/dW(2) = (o^s - onehot) h^s', dL/db(2) = o^s - onehot",
          arma::norm(g.dW[1] - dLdo * h.t(), "inf") <= 1e-15 && arma::norm(g.db[1] - dLdo, "inf") <= 1e-15);

  s.section("2. #18 L1 and L2: the gradient gains l1 sign(W) + 2 l2 W (biases untouched)");
  Network<double> reg = net0;
  reg.l1 = 0.01;
  reg.l2 = 0.05;
  Grads<double> gr;
  make_backend<double>(BackendKind::naive)->value_and_grad(reg, arma::mat(x), arma::mat(onehot), c, gr);
  double er = 0;
  for (std::size_t l = 0; l < 2; ++l) {
    er = std::max(er, arma::norm(gr.dW[l] - g.dW[l] - (0.01 * arma::sign(reg.layers[l].W) + 2 * 0.05 * reg.layers[l].W), "inf"));
    er = std::max(er, arma::norm(gr.db[l] - g.db[l], "inf"));
  }
  s.check("the regularised gradient = the plain one + l1 sign(W) + 2 l2 W (1e-15)", er <= 1e-15);
  const auto fd = check_fd(*make_backend<double>(BackendKind::naive), reg, arma::mat(x), arma::mat(onehot));
  s.check("and it matches central differences", fd.passed);

  s.section("3. Spirals: 3 classes, 2-64-3, ReLU + softmax, Adam");
  {
    const auto tr = data::spirals(1500, 3, 0.2, 7), te = data::by_name("spirals:test", 7);
    auto net = train::init_network<double>({2, 64, 3}, {Activation::relu, Activation::softmax}, Loss::ce, train::Init::he, 7, 0, 1e-4);
    train::Options o;
    o.epochs = 150;
    o.lr = 0.01;
    o.seed = 7;
    const auto r = train::run<double>(net, tr.X, data::encode(tr, Loss::ce, 3), o);
    const auto ev = train::evaluate(r.model, te.X, data::encode(te, Loss::ce, 3));
    s.show("best epoch (validation)", double(r.best_epoch));
    s.show("test accuracy", ev.accuracy);
    s.check("spirals: test accuracy above 0.9 (a linear classifier gets about 1/3)", ev.accuracy > 0.9);
    arma::vec ep(r.history.size()), tl(r.history.size()), vl(r.history.size()), ta(r.history.size()), va(r.history.size());
    for (std::size_t i = 0; i < r.history.size(); ++i) {
      ep[i] = r.history[i].epoch; tl[i] = r.history[i].train_loss; vl[i] = r.history[i].val_loss;
      ta[i] = r.history[i].train_acc; va[i] = r.history[i].val_acc;
    }
    s.wrote(plot::write_table(s.id(), "curves_spirals.csv", {"epoch", "train_loss", "val_loss", "train_acc", "val_acc"}, {ep, tl, vl, ta, va}));
  }

  s.section("4. Fashion-MNIST: 784-128-10 on 10,000 training images, 8 epochs, float");
  const auto full = data::fashion_mnist(false), test = data::fashion_mnist(true);
  data::Dataset sub = full;
  const arma::uvec pick = data::permutation(full.X.n_cols, 7).head(10000);
  sub.X = full.X.cols(pick);
  sub.labels = full.labels.elem(pick);
  auto net = train::init_network<float>({784, 128, 10}, {Activation::relu, Activation::softmax}, Loss::ce, train::Init::he, 7);
  train::Options fo;
  fo.epochs = 8;
  fo.batch = 64;
  fo.seed = 7;
  const auto r = train::run<float>(net, sub.X, data::encode(sub, Loss::ce, 10), fo);
  const arma::mat Yte = data::encode(test, Loss::ce, 10);
  const auto ev = train::evaluate(r.model, test.X, Yte);
  s.show("training time (s)", r.seconds);
  s.show("test accuracy", ev.accuracy);
  s.check("Fashion-MNIST subset: test accuracy above 0.83", ev.accuracy > 0.83);
  Cache<double> ct;
  make_backend<double>(BackendKind::matrix)->forward(r.model, test.X, ct);
  arma::mat conf(10, 10, arma::fill::zeros);  // rows: true class, columns: predicted
  for (arma::uword i = 0; i < test.X.n_cols; ++i) conf(test.labels[i], ct.A.back().col(i).index_max()) += 1;
  s.show("confusion matrix (rows: true 0-9, columns: predicted)", conf, 4);
  s.say("Classes: 0 T-shirt, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker,\n"
        "8 bag, 9 ankle boot.  Shirts (6) are confused with T-shirts, pullovers and coats.");
  s.check("the confusion matrix counts every test image", arma::accu(conf) == 10000);
  arma::vec ci, cj, cv;
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 10; ++j) {
      ci.resize(ci.n_elem + 1); ci(ci.n_elem - 1) = i;
      cj.resize(cj.n_elem + 1); cj(cj.n_elem - 1) = j;
      cv.resize(cv.n_elem + 1); cv(cv.n_elem - 1) = conf(i, j);
    }
  s.wrote(plot::write_table(s.id(), "confusion.csv", {"true", "predicted", "count"}, {ci, cj, cv}));
  arma::vec ep(r.history.size()), tl(r.history.size()), vl(r.history.size()), ta(r.history.size()), va(r.history.size());
  for (std::size_t i = 0; i < r.history.size(); ++i) {
    ep[i] = r.history[i].epoch; tl[i] = r.history[i].train_loss; vl[i] = r.history[i].val_loss;
    ta[i] = r.history[i].train_acc; va[i] = r.history[i].val_acc;
  }
  s.wrote(plot::write_table(s.id(), "curves_fashion.csv", {"epoch", "train_loss", "val_loss", "train_acc", "val_acc"}, {ep, tl, vl, ta, va}));
  s.wrote(plot::render(s.id(), "softmax"));
  return s.finish();
}
