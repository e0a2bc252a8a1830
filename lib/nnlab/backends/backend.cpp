// What every backend shares: the cost, the loss's gradient, the SGD update, the factory.
#include "nnlab/backends/backend.hpp"

#include "nnlab/backends/openmp.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/methods/optim.hpp"
#include "nnlab/runtime/blas.hpp"

#include <stdexcept>
#include <string>

namespace nnlab {

std::string_view name(BackendKind b) {
  switch (b) {
    case BackendKind::naive: return "naive";
    case BackendKind::matrix: return "matrix";
    case BackendKind::openmp: return "openmp";
    case BackendKind::graph: return "graph";
    case BackendKind::mpi: return "mpi";
  }
  return "?";
}

std::optional<BackendKind> backend_from_name(std::string_view s) {
  for (auto b : kAllBackends) if (name(b) == s) return b;
  return std::nullopt;
}

void give_cores(BackendKind kind, int threads) {
  const bool blas = kind == BackendKind::matrix || kind == BackendKind::graph;
  set_blas_threads(blas ? threads : 1);
  if (!blas || threads == 1) park_blas_threads();  // no idle BLAS worker spinning beside the work
}

template <class T> T Backend<T>::cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) {
  const auto& Z = c.Z.back();
  const auto& A = c.A.back();
  T J = 0;
  for (arma::uword t = 0; t < A.n_cols; ++t) J += lossfn::value(net.loss, Z.colptr(t), A.colptr(t), Y.colptr(t), A.n_rows);
  return J / T(A.n_cols) + regularization(net);
}

template <class T>
T Backend<T>::value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
                             Grads<T>& grads, bool want_dX, const InPassSgd<T>* sgd) {
  forward(net, X, cache);
  const T J = cost(net, Y, cache);
  backward(net, X, Y, cache, grads, want_dX);
  if (sgd) apply_sgd(*sgd, grads);
  return J;
}

template <class T>
T Backend<T>::value(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache) {
  forward(net, X, cache);
  return cost(net, Y, cache);
}

template <class T>
void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, T scale, arma::uword t0,
                   arma::uword t1) {
  const std::size_t L = net.depth();
  lossfn::output_gradient(net.loss, net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], Y, c.dA[L - 1], c.dZ[L - 1], scale,
                          t0, t1);
}

template <class T> void apply_sgd(const InPassSgd<T>& sgd, const Grads<T>& g) {
  for (std::size_t l = 0; l < sgd.net->depth(); ++l) {
    auto& Ly = sgd.net->layers[l];
    optim::sgd_update(Ly.W.memptr(), g.dW[l].memptr(), Ly.W.n_elem, sgd.lr);
    optim::sgd_update(Ly.b.memptr(), g.db[l].memptr(), Ly.b.n_elem, sgd.lr);
  }
}

template <class T> std::unique_ptr<Backend<T>> make_naive_backend();
template <class T> std::unique_ptr<Backend<T>> make_matrix_backend();
template <class T> std::unique_ptr<Backend<T>> make_graph_backend();
template <class T> std::unique_ptr<Backend<T>> make_mpi_backend(int threads);

template <class T> std::unique_ptr<Backend<T>> make_backend(BackendKind kind, int threads) {
  if (threads < 1) throw InputError("make_backend: threads must be >= 1, got " + std::to_string(threads));
  switch (kind) {
    case BackendKind::naive: return make_naive_backend<T>();
    case BackendKind::matrix: return make_matrix_backend<T>();
    case BackendKind::openmp: return make_openmp_backend<T>(threads);
    case BackendKind::graph: return make_graph_backend<T>();
    case BackendKind::mpi: return make_mpi_backend<T>(threads);
  }
  throw std::logic_error("make_backend: unknown kind");
}

#define NNLAB_INST(T)                                                                                        \
  template class Backend<T>;                                                                                 \
  template std::unique_ptr<Backend<T>> make_backend<T>(BackendKind, int);                                    \
  template void loss_backward<T>(const Network<T>&, const arma::Mat<T>&, Cache<T>&, T, arma::uword, arma::uword); \
  template void apply_sgd<T>(const InPassSgd<T>&, const Grads<T>&);
NNLAB_INST(float)
NNLAB_INST(double)
#undef NNLAB_INST

}  // namespace nnlab
