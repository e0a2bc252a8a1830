// The parts of the backend interface that every backend shares, and the factory.
#include "nnlab/backend.hpp"
#include "nnlab/blas.hpp"

#include "nnlab/error.hpp"
#include "nnlab/optim.hpp"

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

template <class T>
void Backend<T>::backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                          Cache<T>& cache, Grads<T>& grads, bool want_dX) {
  loss_backward(net, Y, cache, T(1) / T(Y.n_cols));
  backprop(net, X, cache, grads, want_dX);
  add_regularization_grad(net, grads);
}

template <class T>
void Backend<T>::sharded_backward(const Network<T>&, const arma::Mat<T>&, const arma::Mat<T>&, const arma::Mat<T>*,
                                  Cache<T>&, std::size_t, T, std::vector<Grads<T>>&, arma::Mat<T>*) {
  throw std::logic_error(std::string("sharded_backward: not available in the ") + std::string(name(kind())) +
                         " backend (only openmp)");
}

template <class T>
void Backend<T>::vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L,
                     Cache<T>& cache, Grads<T>& grads, bool want_dX) {
  output_backward(net, dA_L, cache);
  backprop(net, X, cache, grads, want_dX);
}

template <class T>
T Backend<T>::value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                             Cache<T>& cache, Grads<T>& grads, bool want_dX) {
  forward(net, X, cache);
  const T J = cost(net, Y, cache);
  backward(net, X, Y, cache, grads, want_dX);
  return J;
}

template <class T>
T Backend<T>::sgd_step(Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
                       Grads<T>& grads, T lr, bool want_dX) {
  const T J = value_and_grad(net, X, Y, cache, grads, want_dX);
  optim::Sgd<T>(lr).step(net, grads);
  return J;
}

template <class T> T Backend<T>::mean_loss(const Network<T>& net, const arma::Mat<T>& Y, const Cache<T>& c) {
  const auto& Z = c.Z.back();
  const auto& A = c.A.back();
  T J = 0;
  for (arma::uword t = 0; t < A.n_cols; ++t) J += lossfn::value(net.loss, Z.colptr(t), A.colptr(t), Y.colptr(t), A.n_rows);
  return J / T(A.n_cols) + regularization(net);
}

template <class T>
T Backend<T>::value(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                    Cache<T>& cache) {
  forward(net, X, cache);
  return cost(net, Y, cache);
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

template class Backend<float>;
template class Backend<double>;
template std::unique_ptr<Backend<float>> make_backend<float>(BackendKind, int);
template std::unique_ptr<Backend<double>> make_backend<double>(BackendKind, int);

}  // namespace nnlab
