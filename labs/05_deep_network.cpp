// Lab 05 -- An L-layer network: forward with caches (Z[l], W[l], b[l]), backward
// dA[l-1] = W[l]' dZ[l], on the lectures' sizes n = [4, 2, 5, 3, 1] and [n, 5, 5, 3, 1];
// every backend gives the same gradients; the row-per-sample convention Z = A W + B of another
// set of notes gives the same numbers, transposed.
// Data: X ~ N(0,1), m = 16 samples, targets y in {0,1}, arma seed 5; networks seeded 5 and 6.
// Writes results/05_deep_network/grad_norms.csv and grad_norms.png.
#include "nnlab/backends/backend.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cstdio>

using namespace nnlab;

int main() {
  lab::Sheet s("05_deep_network", "An L-layer network: caches, backward, conventions");
  arma::arma_rng::set_seed(5);
  const std::size_t m = 16;
  arma::vec layer_idx, norm_a, norm_b;
  int which = 0;
  for (const std::vector<std::size_t>& sizes :
       {std::vector<std::size_t>{4, 2, 5, 3, 1}, std::vector<std::size_t>{6, 5, 5, 3, 1}}) {
    std::string nm = "[";
    for (auto v : sizes) nm += std::to_string(v) + (&v == &sizes.back() ? "]" : ", ");
    s.section(std::string("n = ") + nm + ", sigmoid everywhere, bce");
    const std::vector<Activation> sig(sizes.size() - 1, Activation::sigmoid);
    const auto net = random_network<double>(sizes, sig, Loss::bce, 5 + which, 1.0);
    const arma::mat X = arma::randn(sizes[0], m);
    const arma::rowvec y = arma::conv_to<arma::rowvec>::from(arma::randu<arma::rowvec>(m) > 0.5);
    auto ref = make_backend<double>(BackendKind::naive);
    Cache<double> c;
    Grads<double> g;
    const double J = ref->value_and_grad(net, X, y, c, g);
    s.say("forward: for l = 1..L: Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]); cache (Z[l], W[l], b[l])");
    for (std::size_t l = 0; l < net.depth(); ++l)
      std::printf("  layer %zu: W %zux%zu, b %zu, cache Z %zux%zu\n", l + 1, std::size_t(net.layers[l].W.n_rows),
                  std::size_t(net.layers[l].W.n_cols), std::size_t(net.layers[l].b.n_elem), std::size_t(c.Z[l].n_rows),
                  std::size_t(c.Z[l].n_cols));
    s.say("backward: dZ[L] = A[L] - Y; for l = L..1: dW[l] = dZ[l] A[l-1]', db[l] = sum(dZ[l], 2),\n"
          "          dA[l-1] = W[l]' dZ[l], dZ[l-1] = dA[l-1] o g'(Z[l-1])  (the 1/m sits in dZ[L])");
    s.show("J", J);
    for (BackendKind k : {BackendKind::matrix, BackendKind::openmp, BackendKind::graph}) {
      Cache<double> ck;
      Grads<double> gk;
      const double Jk = make_backend<double>(k)->value_and_grad(net, X, y, ck, gk);
      double e = std::abs(Jk - J) / J;
      for (std::size_t l = 0; l < net.depth(); ++l)
        e = std::max({e, arma::norm(gk.dW[l] - g.dW[l], "inf"), arma::norm(gk.db[l] - g.db[l], "inf")});
      s.check(std::string(name(k)) + " = naive (max difference " + lab::fmt(e, 2) + ")", e <= 1e-14);
    }
    // Row-per-sample convention: A_row[0] = X' (m x n_0), Z = A W_row + B with W_row = W' and
    // B the bias as a row, broadcast down the rows.
    arma::mat A = X.t();
    bool same = true;
    for (std::size_t l = 0; l < net.depth(); ++l) {
      arma::mat Z = A * net.layers[l].W.t();
      Z.each_row() += net.layers[l].b.t();
      A = 1 / (1 + arma::exp(-Z));
      same = same && arma::norm(Z - c.Z[l].t(), "inf") <= 1e-14;
    }
    s.check("row-per-sample Z = A W + B gives the same Z[l], transposed, at every layer", same);
    for (std::size_t l = 0; l < net.depth(); ++l) {
      layer_idx.resize(layer_idx.n_elem + 1);
      layer_idx(layer_idx.n_elem - 1) = double(which * 10 + l + 1);
      norm_a.resize(norm_a.n_elem + 1);
      norm_a(norm_a.n_elem - 1) = arma::norm(g.dW[l], "fro");
      norm_b.resize(norm_b.n_elem + 1);
      norm_b(norm_b.n_elem - 1) = arma::norm(net.layers[l].W, "fro");
    }
    s.say("||dW[l]|| by layer (sigmoid: each layer multiplies by at most 1/4, so the first layers\n"
          "get the smallest gradients):");
    for (std::size_t l = 0; l < net.depth(); ++l) std::printf("  ||dW[%zu]|| = %.3e\n", l + 1, arma::norm(g.dW[l], "fro"));
    ++which;
  }
  s.wrote(plot::write_table(s.id(), "grad_norms.csv", {"layer", "grad_norm", "weight_norm"}, {layer_idx, norm_a, norm_b}));
  s.wrote(plot::render(s.id(), "grad_norms"));
  return s.finish();
}
