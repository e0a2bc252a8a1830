#include "nnlab/core/network.hpp"

#include "nnlab/core/error.hpp"

#include <cmath>
#include <random>
#include <string>

namespace nnlab {

template <class T> std::vector<std::size_t> Network<T>::sizes() const {
  std::vector<std::size_t> s;
  if (layers.empty()) return s;
  s.push_back(layers.front().W.n_cols);
  for (const auto& L : layers) s.push_back(L.W.n_rows);
  return s;
}

template <class T> std::size_t Network<T>::n_params() const {
  std::size_t p = 0;
  for (const auto& L : layers) p += L.W.n_elem + L.b.n_elem;
  return p;
}

template <class T> std::size_t Network<T>::n_neurons() const {
  std::size_t p = 0;
  for (const auto& L : layers) p += L.W.n_rows;
  return p;
}

template <class T> void Network<T>::validate() const {
  if (layers.empty()) throw InputError("network: no layers");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto& L = layers[l];
    const std::string where = "network: layer " + std::to_string(l + 1) + ": ";
    if (L.W.n_rows == 0 || L.W.n_cols == 0) throw InputError(where + "W is empty");
    if (L.b.n_elem != L.W.n_rows)
      throw InputError(where + "b has " + std::to_string(L.b.n_elem) + " entries, W has " +
                       std::to_string(L.W.n_rows) + " rows");
    if (l > 0 && L.W.n_cols != layers[l - 1].W.n_rows)
      throw InputError(where + "W has " + std::to_string(L.W.n_cols) +
                       " columns, but layer " + std::to_string(l) + " has " +
                       std::to_string(layers[l - 1].W.n_rows) + " neurons");
  }
  if (!std::isfinite(double(l1)) || l1 < 0) throw InputError("network: l1 must be finite and >= 0");
  if (!std::isfinite(double(l2)) || l2 < 0) throw InputError("network: l2 must be finite and >= 0");
  if (auto need = required_last_activation(loss); need && layers.back().act != *need)
    throw InputError("network: loss '" + std::string(name(loss)) + "' needs last activation '" +
                     std::string(name(*need)) + "', not '" + std::string(name(layers.back().act)) + "'");
}

template <class T>
Network<T> random_network(const std::vector<std::size_t>& sizes, const std::vector<Activation>& acts,
                          Loss loss, std::uint64_t seed, double scale, double l1, double l2) {
  if (sizes.size() < 2 || acts.size() != sizes.size() - 1)
    throw InputError("random_network: need L+1 sizes and L activations");
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0.0, 1.0);
  Network<T> net;
  net.loss = loss; net.l1 = T(l1); net.l2 = T(l2);
  for (std::size_t l = 1; l < sizes.size(); ++l) {
    const double s = scale > 0 ? scale : std::sqrt(2.0 / double(sizes[l - 1]));
    Layer<T> L;
    L.act = acts[l - 1];
    L.W.set_size(sizes[l], sizes[l - 1]);
    L.b.set_size(sizes[l]);
    for (auto& w : L.W) w = T(s * N(rng));
    for (auto& b : L.b) b = T(s * N(rng));
    net.layers.push_back(std::move(L));
  }
  return net;
}

template <class T> std::size_t Grads<T>::size() const {
  std::size_t p = 0;
  for (std::size_t l = 0; l < dW.size(); ++l) p += dW[l].n_elem + db[l].n_elem;
  return p;
}

template <class T> arma::Col<T> Grads<T>::flatten() const {
  arma::Col<T> g(size());
  std::size_t k = 0;
  for (std::size_t l = 0; l < dW.size(); ++l) {
    for (auto v : dW[l]) g[k++] = v;
    for (auto v : db[l]) g[k++] = v;
  }
  return g;
}

template <class T> void Cache<T>::resize(const Network<T>& net, std::size_t m) {
  const std::size_t L = net.depth();
  Z.resize(L); A.resize(L); dZ.resize(L); dA.resize(L);
  for (std::size_t l = 0; l < L; ++l) {
    const auto n = net.layers[l].W.n_rows;
    Z[l].set_size(n, m); A[l].set_size(n, m); dZ[l].set_size(n, m); dA[l].set_size(n, m);
  }
  loss_col.set_size(m);
}

template <class T> arma::Col<T> flatten_params(const Network<T>& net) {
  Grads<T> g;
  for (const auto& L : net.layers) { g.dW.push_back(L.W); g.db.push_back(L.b); }
  return g.flatten();
}

template <class T> void set_params(Network<T>& net, const arma::Col<T>& theta) {
  std::size_t k = 0;
  for (auto& L : net.layers) {
    for (auto& v : L.W) v = theta[k++];
    for (auto& v : L.b) v = theta[k++];
  }
}

template <class T> T regularization(const Network<T>& net) {
  T r1 = 0, r2 = 0;
  if (net.l1 == T(0) && net.l2 == T(0)) return 0;
  for (const auto& L : net.layers)
    for (const T w : L.W) { r1 += w < 0 ? -w : w; r2 += w * w; }
  return net.l1 * r1 + net.l2 * r2;
}

template <class T> void add_regularization_grad(const Network<T>& net, Grads<T>& g) {
  if (net.l1 == T(0) && net.l2 == T(0)) return;
  for (std::size_t l = 0; l < net.depth(); ++l) add_regularization_grad(net.l1, net.l2, net.layers[l].W, g.dW[l]);
}

#define NNLAB_INST(T)                                                                           \
  template struct Network<T>;                                                                   \
  template struct Grads<T>;                                                                     \
  template struct Cache<T>;                                                                     \
  template Network<T> random_network<T>(const std::vector<std::size_t>&,                        \
                                        const std::vector<Activation>&, Loss, std::uint64_t,    \
                                        double, double, double);                                \
  template arma::Col<T> flatten_params<T>(const Network<T>&);                                   \
  template void set_params<T>(Network<T>&, const arma::Col<T>&);                                \
  template T regularization<T>(const Network<T>&);                                              \
  template void add_regularization_grad<T>(const Network<T>&, Grads<T>&);
NNLAB_INST(float)
NNLAB_INST(double)
#undef NNLAB_INST

}  // namespace nnlab
