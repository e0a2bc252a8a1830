// ReLU constructions (see nnlab/methods/relu_constructions.hpp).
#include "nnlab/methods/relu_constructions.hpp"

#include "nnlab/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace nnlab::relu {

namespace {
Layer<double> layer(Activation a, arma::mat W, arma::vec b) { return {a, std::move(W), std::move(b)}; }
Network<double> net_of(std::vector<Layer<double>> layers) {
  Network<double> n;
  n.loss = Loss::mse;
  n.layers = std::move(layers);
  return n;
}
}  // namespace

Network<double> abs_net() {
  // TASK relu-abs-l1
  return net_of({layer(Activation::relu, arma::mat{1.0, -1.0}.t(), arma::vec(2, arma::fill::zeros)),
                 layer(Activation::identity, arma::mat{1.0, 1.0}, arma::vec{0.0})});
  // STUB
  // return net_of({layer(Activation::relu, arma::mat(2, 1, arma::fill::zeros), arma::vec(2, arma::fill::zeros)),
  //                layer(Activation::identity, arma::mat(1, 2, arma::fill::zeros), arma::vec{0.0})});
  // END TASK relu-abs-l1
}

Network<double> l1_norm_net(std::size_t D) { return l1_dist_net(arma::vec(D, arma::fill::zeros)); }

Network<double> l1_dist_net(const arma::vec& q) {
  const std::size_t D = q.n_elem;
  // TASK relu-abs-l1
  const arma::mat I = arma::eye(D, D);
  return net_of({layer(Activation::relu, arma::join_cols(I, -I), arma::join_cols(arma::vec(-q), q)),
                 layer(Activation::identity, arma::mat(1, 2 * D, arma::fill::ones), arma::vec{0.0})});
  // STUB
  // return net_of({layer(Activation::relu, arma::mat(2 * D, D, arma::fill::zeros), arma::vec(2 * D, arma::fill::zeros)),
  //                layer(Activation::identity, arma::mat(1, 2 * D, arma::fill::zeros), arma::vec{0.0})});
  // END TASK relu-abs-l1
}

Network<double> pseudo_dirac_net(const arma::vec& q) {
  const std::size_t D = q.n_elem;
  // TASK relu-pseudo-dirac
  const arma::mat I = arma::eye(D, D);
  return net_of({layer(Activation::relu, arma::join_cols(I, -I), arma::join_cols(arma::vec(-q), q)),
                 layer(Activation::relu, arma::mat(1, 2 * D, arma::fill::value(-1.0)), arma::vec{1.0})});
  // STUB
  // return net_of({layer(Activation::relu, arma::mat(2 * D, D, arma::fill::zeros), arma::vec(2 * D, arma::fill::zeros)),
  //                layer(Activation::relu, arma::mat(1, 2 * D, arma::fill::zeros), arma::vec{0.0})});
  // END TASK relu-pseudo-dirac
}

Network<double> memorize_net(const arma::mat& X, const arma::vec& y, const std::string& src) {
  const std::size_t N = X.n_rows, D = X.n_cols;
  if (N == 0 || D == 0) throw InputError(src + ": no points");
  if (y.n_elem != N) throw InputError(src + ": " + std::to_string(N) + " points but " + std::to_string(y.n_elem) + " labels");
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t d = 0; d < D; ++d)
      if (X(n, d) != std::round(X(n, d)) || std::abs(X(n, d)) > 9007199254740992.0)
        throw InputError(src + ": line " + std::to_string(n + 1) + ", column " + std::to_string(d + 1) +
                         ": coordinates must be integers (got " + std::to_string(X(n, d)) + ")");
  // Distinct points: sort row indices lexicographically and compare neighbours.
  std::vector<std::size_t> idx(N);
  for (std::size_t n = 0; n < N; ++n) idx[n] = n;
  auto row_less = [&](std::size_t a, std::size_t b) {
    for (std::size_t d = 0; d < D; ++d) if (X(a, d) != X(b, d)) return X(a, d) < X(b, d);
    return false;
  };
  std::sort(idx.begin(), idx.end(), row_less);
  for (std::size_t k = 1; k < N; ++k)
    if (!row_less(idx[k - 1], idx[k]))
      throw InputError(src + ": lines " + std::to_string(std::min(idx[k - 1], idx[k]) + 1) + " and " +
                       std::to_string(std::max(idx[k - 1], idx[k]) + 1) + " hold the same point");
  // Layer 1 (2ND relu), layer 2 (N relu), layer 3 (1 identity); block n of layer 1 is rows
  // 2Dn .. 2Dn + 2D - 1.
  arma::mat W1(2 * N * D, D, arma::fill::zeros), W2(N, 2 * N * D, arma::fill::zeros), W3(1, N, arma::fill::zeros);
  arma::vec b1(2 * N * D, arma::fill::zeros), b2(N, arma::fill::zeros);
  // TASK relu-memorizer
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t d = 0; d < D; ++d) {
      const std::size_t p = 2 * D * n + d, m = 2 * D * n + D + d;  // +(x_d - x_nd), -(x_d - x_nd)
      W1(p, d) = 1;
      b1[p] = -X(n, d);
      W1(m, d) = -1;
      b1[m] = X(n, d);
      W2(n, p) = W2(n, m) = -1;  // 1 - ||x - x_n||_1
    }
  b2.ones();
  W3 = y.t();
  // STUB
  // (void)y;
  // END TASK relu-memorizer
  return net_of({layer(Activation::relu, W1, b1), layer(Activation::relu, W2, b2),
                 layer(Activation::identity, W3, arma::vec{0.0})});
}

Zhang zhang_net(const arma::mat& X, const arma::vec& y, std::uint64_t seed) {
  const std::size_t N = X.n_rows, D = X.n_cols;
  if (y.n_elem != N || N == 0) throw InputError("zhang_net: need one label per point");
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> G(0, 1);
  Zhang Zn;
  arma::vec z;
  arma::uvec order;
  for (int attempt = 0; attempt < 100; ++attempt) {  // a generic direction: distinct projections
    Zn.a.set_size(D);
    for (auto& v : Zn.a) v = G(rng);
    z = X * Zn.a;
    order = arma::sort_index(z);
    bool distinct = true;
    for (std::size_t k = 1; k < N; ++k) distinct = distinct && z[order[k]] - z[order[k - 1]] > 1e-9 * (1 + std::abs(z[order[k]]));
    if (distinct) break;
    if (attempt == 99) throw InputError("zhang_net: the points are not distinct");
  }
  const arma::vec zs = z.elem(order);
  Zn.b.set_size(N);
  Zn.b[0] = zs[0] - 1;
  for (std::size_t j = 1; j < N; ++j) Zn.b[j] = 0.5 * (zs[j - 1] + zs[j]);
  // A(n, j) = relu(z_n - b_j): lower triangular with a positive diagonal; forward substitution.
  arma::mat A(N, N);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t j = 0; j < N; ++j) A(n, j) = std::max(0.0, zs[n] - Zn.b[j]);
  const arma::vec ys = y.elem(order);
  Zn.w = arma::solve(arma::trimatl(A), ys);
  Zn.net = net_of({layer(Activation::relu, arma::repmat(Zn.a.t(), N, 1), -Zn.b),
                   layer(Activation::identity, arma::mat(Zn.w.t()), arma::vec{0.0})});
  return Zn;
}

}  // namespace nnlab::relu
