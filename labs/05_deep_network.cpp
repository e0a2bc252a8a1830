// Lab 05 -- An L-layer network in the notes' notation: the TD's sizes n = [4, 2, 5, 3, 1]
// (n^[0] = 4 inputs, L = 4 layers) and [6, 5, 5, 3, 1]; forward with caches (Z[l], W[l], b[l]);
// the backward equations dW[l] = (1/m) dZ[l] A[l-1]', db[l] = (1/m) sum(dZ[l], axis=1,
// keepdims=True), dA[l-1] = W[l]' dZ[l] computed as written and against every backend; the
// TD's dy/dbeta^4; the row-per-sample convention of another set of notes, forward and
// backward; the lecture's loop pseudo-code (t over layers) run as written; gradient norms by
// layer against the bound that sigma' <= 1/4 gives.
// Data: X ~ N(0,1), m = 16 samples, targets y in {0,1}, arma seed 5; networks seeded 5 and 6.
// Writes results/05_deep_network/grad_norms.csv and grad_norms.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cstdio>

using namespace nnlab;

namespace {
arma::mat sig(const arma::mat& Z) { return 1 / (1 + arma::exp(-Z)); }
}  // namespace

int main() {
  lab::Sheet s("05_deep_network", "An L-layer network: caches, backward, conventions");
  arma::arma_rng::set_seed(5);
  const std::size_t m = 16;
  arma::vec layer_idx, norm_a, norm_b;
  int which = 0;
  for (const std::vector<std::size_t>& sizes :
       {std::vector<std::size_t>{4, 2, 5, 3, 1}, std::vector<std::size_t>{6, 5, 5, 3, 1}}) {
    std::string nm;
    for (std::size_t i = 0; i < sizes.size(); ++i) nm += (i ? ", " : "") + std::to_string(sizes[i]);
    const std::string part = which == 0 ? "A" : "B";
    s.section(part + ". n = [" + nm + "] (n^[0] inputs, then n^[1..4]), sigmoid in every layer, bce, m = 16");
    const std::size_t L = sizes.size() - 1;
    const auto net = random_network<double>(sizes, std::vector<Activation>(L, Activation::sigmoid), Loss::bce, 5 + which, 1.0);
    const arma::mat X = arma::randn(sizes[0], m);
    const arma::rowvec y = arma::conv_to<arma::rowvec>::from(arma::randu<arma::rowvec>(m) > 0.5);
    auto ref = make_backend<double>(BackendKind::naive);
    Cache<double> c;
    Grads<double> g;
    const double J = ref->value_and_grad(net, X, y, c, g);
    s.say(part + ".1 Forward: for l = 1..L: Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]), A[0] = X; cache (Z[l], W[l], b[l]).");
    for (std::size_t l = 0; l < L; ++l)
      std::printf("  layer %zu: W[%zu] in M(n^[%zu], n^[%zu]) = %zux%zu, b[%zu] %zu, cached Z[%zu] %zux%zu\n", l + 1, l + 1, l + 1, l,
                  std::size_t(net.layers[l].W.n_rows), std::size_t(net.layers[l].W.n_cols), l + 1,
                  std::size_t(net.layers[l].b.n_elem), l + 1, std::size_t(c.Z[l].n_rows), std::size_t(c.Z[l].n_cols));
    std::printf("  parameters: sum n^[l] (n^[l-1] + 1) = %zu\n", net.n_params());
    s.show("J = -(1/m) sum [y log A[L] + (1 - y) log(1 - A[L])]", J);

    // The notes' backward pass, written out: dZ[L] = A[L] - Y, and 1/m in dW and db.
    s.say(part + ".2 Backward as the notes write it:  dZ[L] = A[L] - Y;  for l = L..1:\n"
          "      dW[l] = (1/m) dZ[l] A[l-1]',  db[l] = (1/m) sum(dZ[l], axis=1, keepdims=True),\n"
          "      dA[l-1] = W[l]' dZ[l],  dZ[l-1] = dA[l-1] * g'(Z[l-1])   (* elementwise)");
    std::vector<arma::mat> A(L + 1), dW(L);
    std::vector<arma::vec> db(L);
    A[0] = X;
    for (std::size_t l = 0; l < L; ++l) {
      arma::mat Z = net.layers[l].W * A[l];
      Z.each_col() += net.layers[l].b;
      A[l + 1] = sig(Z);
    }
    arma::mat dZ = A[L].each_row() - y;  // y (1 x m) repeated down the n^[L] rows: broadcasting
    std::vector<arma::mat> dZs(L);         // dJ/dZ[l] = dZ[l]/m, for the norms of section 5
    for (std::size_t l = L; l-- > 0;) {
      dZs[l] = dZ / double(m);
      dW[l] = dZ * A[l].t() / double(m);
      db[l] = arma::sum(dZ, 1) / double(m);  // sum over samples: a column n^[l] x 1, as keepdims=True keeps it
      if (l > 0) dZ = (net.layers[l].W.t() * dZ) % (A[l] % (1 - A[l]));
    }
    double e = 0;
    for (std::size_t l = 0; l < L; ++l) e = std::max({e, arma::norm(dW[l] - g.dW[l], "inf"), arma::norm(db[l] - g.db[l], "inf")});
    s.check("these dW[l], db[l] equal the library's gradients of J (max difference " + lab::fmt(e, 2) + ")", e <= 1e-15);
    s.say("nnlab's backends keep dZ[l] = dJ/dZ[l]: they start from dZ[L] = (A[L] - Y)/m, so the 1/m is\n"
          "already in every dZ and their dW[l] = dZ[l] A[l-1]' has none.  Either form alone is right;\n"
          "taking dZ[L] = A[L] - Y together with dW[l] = dZ[l] A[l-1]' gives gradients m times too large.");
    for (BackendKind k : {BackendKind::matrix, BackendKind::openmp, BackendKind::graph}) {
      Cache<double> ck;
      Grads<double> gk;
      const double Jk = make_backend<double>(k)->value_and_grad(net, X, y, ck, gk);
      double ek = std::abs(Jk - J) / J;
      for (std::size_t l = 0; l < L; ++l)
        ek = std::max({ek, arma::norm(gk.dW[l] - g.dW[l], "inf"), arma::norm(gk.db[l] - g.db[l], "inf")});
      s.check(std::string(name(k)) + " backend = naive (max difference " + lab::fmt(ek, 2) + ")", ek <= 1e-14);
    }

    if (which == 0) {
      s.say(part + ".3 The TD (exercise 2.4): for one sample, y(x, beta) = a^4 = sigma(W^4 a^3 + b^4), so\n"
            "      dy/dbeta^4 = sigma'(W^4 a^3 + b^4) [ (a^3)', 1 ]   (dy/dW^4, then dy/db^4)");
      const arma::vec x0 = X.col(0);
      arma::vec a = x0;
      for (std::size_t l = 0; l + 1 < L; ++l) a = sig(net.layers[l].W * a + net.layers[l].b);  // a^3
      const double z4 = arma::as_scalar(net.layers[L - 1].W * a + net.layers[L - 1].b);
      const double a4 = sig(arma::mat{z4})(0, 0), sp = a4 * (1 - a4);
      const arma::rowvec hand = sp * arma::join_rows(a.t(), arma::rowvec{1.0});
      s.show("dy/dbeta^4 by the formula", arma::mat(hand));
      Cache<double> c1;
      Grads<double> g1;
      auto be = make_backend<double>(BackendKind::naive);
      be->forward(net, arma::mat(x0), c1);
      be->vjp(net, arma::mat(x0), arma::mat{1.0}, c1, g1);  // dy/dtheta: backward from dA[L] = 1
      const arma::rowvec lib = arma::join_rows(g1.dW[L - 1], arma::rowvec{g1.db[L - 1](0)});
      s.check("= the library's backward pass from dy/dy = 1 (max difference " + lab::fmt(arma::abs(lib - hand).max(), 2) + ")",
              arma::abs(lib - hand).max() <= 1e-16);
      s.say("dy/dbeta^3 goes through W^4: sigma'(z^4) W^4 diag(sigma'(z^3)) [a^2', 1] per row of W^3 -- the\n"
            "factors of the chain rule the backward pass multiplies layer by layer.");
    }

    // Row-per-sample (the notation of another set of notes): A^0 = X' (m x n^[0]), Z = A W + B.
    s.say(part + (which == 0 ? ".4" : ".3") + " Row per sample (another set of notes): A^0 = X' (m x n^[0]), Z^i = A^{i-1} W^i + B^i\n"
          "      with W^i = W[i]' (n^[i-1] x n^[i]) and B^i the bias repeated on every row.  Backward:\n"
          "      dZ^L = A^L - Y', dW^i = (1/m) [A^{i-1}]' dZ^i (n^[i-1] x n^[i]), dB^i = (1/m) sum of dZ^i's rows,\n"
          "      dZ^{i-1} = (dZ^i [W^i]') o f'(Z^{i-1}).  (The notes write dL/dW^i = dL/dZ^i [A^{i-1}]', the\n"
          "      column convention's product: with rows per sample the transpose goes on A, in front.)");
    std::vector<arma::mat> Ar(L + 1);
    Ar[0] = X.t();
    bool same = true;
    for (std::size_t l = 0; l < L; ++l) {
      arma::mat Z = Ar[l] * net.layers[l].W.t();
      Z.each_row() += net.layers[l].b.t();
      Ar[l + 1] = sig(Z);
      same = same && arma::norm(Z - c.Z[l].t(), "inf") <= 1e-14;
    }
    s.check("forward: Z^i = A^{i-1} W^i + B^i is Z[i]' at every layer", same);
    arma::mat dZr = Ar[L] - y.t();
    double er = 0;
    for (std::size_t l = L; l-- > 0;) {
      const arma::mat dWr = Ar[l].t() * dZr / double(m);
      const arma::rowvec dBr = arma::sum(dZr, 0) / double(m);
      er = std::max({er, arma::norm(dWr - g.dW[l].t(), "inf"), arma::norm(dBr - g.db[l].t(), "inf")});
      if (l > 0) dZr = (dZr * net.layers[l].W) % (Ar[l] % (1 - Ar[l]));
    }
    s.check("backward: dW^i = (1/m) [A^{i-1}]' dZ^i is dW[i]' at every layer (max difference " + lab::fmt(er, 2) + ")",
            er <= 1e-15);

    // Gradient norms by layer, and the bound sigma' <= 1/4 gives.
    const std::string sec = part + (which == 0 ? ".5" : ".4");
    s.say(sec + " ||dW[l]|| by layer.  Going down one layer multiplies dZ by W[l]' and by sigma'(Z[l-1]) <= 1/4:\n"
          "      ||dZ[l-1]|| <= (1/4) ||W[l]||_2 ||dZ[l]||.  dW[l] = dZ[l] A[l-1]' also scales with A[l-1].");
    bool bound = true;
    for (std::size_t l = L - 1; l-- > 0;) {
      const double lhs = arma::norm(dZs[l], "fro"), rhs = 0.25 * arma::norm(net.layers[l + 1].W, 2) * arma::norm(dZs[l + 1], "fro");
      std::printf("  ||dZ[%zu]|| = %.3e  <=  (1/4) ||W[%zu]||_2 ||dZ[%zu]|| = %.3e\n", l + 1, lhs, l + 2, l + 2, rhs);
      bound = bound && lhs <= rhs;
    }
    s.check("the bound holds at every layer", bound);
    for (std::size_t l = 0; l < L; ++l) std::printf("  ||dW[%zu]|| = %.3e\n", l + 1, arma::norm(g.dW[l], "fro"));
    double largest_below = 0;
    for (std::size_t l = 0; l + 1 < L; ++l) largest_below = std::max(largest_below, arma::norm(g.dW[l], "fro"));
    const double ratio = largest_below / arma::norm(g.dW[L - 1], "fro");
    s.check("the last layer gets the largest gradient; each layer below gets at most " + lab::fmt(ratio, 2) + " of it",
            ratio < 1);
    for (std::size_t l = 0; l < L; ++l) {
      layer_idx.resize(layer_idx.n_elem + 1);
      layer_idx(layer_idx.n_elem - 1) = double(which * 10 + l + 1);
      norm_a.resize(norm_a.n_elem + 1);
      norm_a(norm_a.n_elem - 1) = arma::norm(g.dW[l], "fro");
      norm_b.resize(norm_b.n_elem + 1);
      norm_b(norm_b.n_elem - 1) = arma::norm(net.layers[l].W, "fro");
    }
    ++which;
  }
  s.say("The norms need not fall in order down the layers: in A, layer 2 gets less than layer 1, because\n"
        "||W|| and the activations A[l-1] differ from layer to layer; what the bound fixes is the factor\n"
        "1/4 per layer that sigmoid networks pay on the way down (the vanishing gradient of deep ones).");

  s.section("C. The lecture's forward-backward pseudo-code, run as written (one sample, relu)");
  s.say("for t / for i / for j:  A[t][i] += relu(A[t-1][j]) * w[t-1][i][j]   (A holds pre-activations;\n"
        "t runs over the layers here, while nnlab's naive loops use t for the samples)\n"
        "DA[z][1] = dloss/dA;  for t from z down to 1, for j, for i:\n"
        "      DA[t][j] += DA[t+1][i] * w[t][i][j] * relu'(A[t][j])");
  {
    // The network of the pseudo-code: no biases, relu applied to every layer's input except x.
    const std::vector<std::size_t> n = {3, 4, 4, 1};
    const auto net = random_network<double>(n, {Activation::relu, Activation::relu, Activation::identity}, Loss::mse, 15, 1.0);
    const arma::vec x = {0.5, -1.0, 2.0};
    const std::size_t T = n.size() - 1;
    std::vector<std::vector<double>> Apre(T + 1), DA(T + 1);
    auto relu = [](double v) { return v > 0 ? v : 0.0; };
    auto drelu = [](double v) { return v > 0 ? 1.0 : 0.0; };
    Apre[0].assign(x.begin(), x.end());
    for (std::size_t t = 1; t <= T; ++t) {
      Apre[t].assign(n[t], 0.0);
      for (std::size_t i = 0; i < n[t]; ++i)
        for (std::size_t j = 0; j < n[t - 1]; ++j)
          Apre[t][i] += (t == 1 ? Apre[0][j] : relu(Apre[t - 1][j])) * net.layers[t - 1].W(i, j);
    }
    for (std::size_t t = 0; t <= T; ++t) DA[t].assign(n[t], 0.0);
    DA[T][0] = 1;  // d output / d output: the gradient of f itself
    for (std::size_t t = T - 1; t >= 1; --t)
      for (std::size_t j = 0; j < n[t]; ++j)
        for (std::size_t i = 0; i < n[t + 1]; ++i) DA[t][j] += DA[t + 1][i] * net.layers[t].W(i, j) * drelu(Apre[t][j]);
    // d f / d w[t-1][i][j] = DA[t][i] * (input j of layer t)
    auto nb = net;
    for (auto& Ly : nb.layers) Ly.b.zeros();
    Cache<double> c;
    Grads<double> g;
    auto be = make_backend<double>(BackendKind::naive);
    be->forward(nb, arma::mat(x), c);
    be->vjp(nb, arma::mat(x), arma::mat{1.0}, c, g);
    double e = std::abs(Apre[T][0] - c.A.back()(0, 0));
    for (std::size_t t = 1; t <= T; ++t)
      for (std::size_t i = 0; i < n[t]; ++i)
        for (std::size_t j = 0; j < n[t - 1]; ++j)
          e = std::max(e, std::abs(DA[t][i] * (t == 1 ? Apre[0][j] : relu(Apre[t - 1][j])) - g.dW[t - 1](i, j)));
    s.show("f(x) by the pseudo-code", Apre[T][0]);
    s.check("f(x) and every df/dw[t][i][j] = DA[t+1][i] * input_j equal the library's (max difference " + lab::fmt(e, 2) + ")",
            e <= 1e-15);
    s.say("The sum over i in DA[t][j] is the chain rule over the successors of A[t][j] (the neurons i of\n"
          "the next layer it feeds), not the sum of the forward pass: lab 01, section 4.");
  }
  s.wrote(plot::write_table(s.id(), "grad_norms.csv", {"layer", "grad_norm", "weight_norm"}, {layer_idx, norm_a, norm_b}));
  s.wrote(plot::render(s.id(), "grad_norms"));
  return s.finish();
}
