// nnlab/backends/backend.hpp -- one interface, five ways to compute the same equations.
//
//   naive   scalar loops over samples, neurons and inputs: the reference (naive.hpp)
//   matrix  Armadillo expressions: every product is one BLAS call (matrix.cpp)
//   openmp  the loops tiled and parallelised with OpenMP, bit-identical for any thread
//           count (openmp.hpp)
//   graph   the reverse-mode autodiff engine of nnlab/graph/graph.hpp: nothing differentiated
//           by hand
//   mpi     data parallelism: the batch in fixed shards over MPI processes, the openmp
//           equations on each, the shard gradients added along a fixed tree, so that the result
//           is the same for any number of processes (nnlab/runtime/mpi.hpp)
//
// forward() fills the cache (Z[l], A[l]); cost() reads it; backward() goes from the loss
// down through the layers (dZ, dW, db, dA) and adds the regularisation's gradient; vjp() is
// the same backward pass started from any output gradient dA[L] (no loss, no 1/m, no
// regularisation): one call per sample gives the rows of the Jacobian that Gauss-Newton
// needs.  Every backend implements all of them.
#pragma once
#include "nnlab/core/network.hpp"

#include <memory>
#include <optional>
#include <string_view>

namespace nnlab {

enum class BackendKind { naive, matrix, openmp, graph, mpi };
inline constexpr BackendKind kAllBackends[] = {BackendKind::naive, BackendKind::matrix, BackendKind::openmp,
                                               BackendKind::graph, BackendKind::mpi};
std::string_view name(BackendKind b);
std::optional<BackendKind> backend_from_name(std::string_view s);

// Plain SGD taken in the same pass as the gradient (optim::Sgd's step; PyTorch calls it the
// optimizer in the backward pass): theta <- theta - lr dJ/dtheta for every W and b of *net,
// the network being differentiated.  The matrix backend folds W's update into the product
// that would make dW (W <- W - lr dZ A' is one gemm onto W; grads.dW is then not filled), the
// openmp backend makes it inside its parallel region; the others (and every backend when
// the network has l1 or l2 terms) after the backward pass.
template <class T = double> struct InPassSgd {
  Network<T>* net = nullptr;
  T lr = 0;
};

template <class T = double> class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;

  // X is n_0 x m.  Fills cache.Z, cache.A (resizing the cache if needed).
  virtual void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& cache) = 0;
  // J from the forward cache: the per-sample losses summed in sample order, / m, plus the
  // regularisation.
  virtual T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& cache);
  // dJ/dW, dJ/db (regularisation included) and, if want_dX, dJ/dX; needs forward() first.
  virtual void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
                        Grads<T>& grads, bool want_dX = false) = 0;
  // The backward pass from an output gradient dA_L (n_L x m): grads = sum over samples i of
  // dA_L(:,i)' dA[L](:,i)/dtheta.  Needs forward() first.
  virtual void vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L, Cache<T>& cache,
                   Grads<T>& grads, bool want_dX = false) = 0;
  // forward + cost + backward, and with sgd the SGD update in the same pass; returns J (before
  // the update).  The same numbers as the separate calls.
  virtual T value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
                           Grads<T>& grads, bool want_dX = false, const InPassSgd<T>* sgd = nullptr);
  // forward + cost.
  T value(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache);
};

// threads: the OpenMP threads of the openmp and mpi backends (>= 1); the others start no
// threads of their own (the BLAS threads of matrix and graph: give_cores below).
template <class T = double>
std::unique_ptr<Backend<T>> make_backend(BackendKind kind, int threads = 1);

// One owner of the cores: matrix and graph compute in OpenBLAS, which gets `threads`; the
// others run loops of their own (OpenMP for openmp and mpi), so OpenBLAS gets 1 thread and
// its idle workers are parked (park_blas_threads, nnlab/runtime/blas.hpp).  Matrix and graph
// on 1 thread park them too: a worker left spinning by an earlier 2-thread product would
// run beside the 1-thread work.
void give_cores(BackendKind kind, int threads);

// What the backends share.  dZ[L] of the columns [t0, t1) from the loss, times scale (1/m for
// the mean cost): bce and ce give it directly (fused with their activation), mse and hinge
// give dA[L] (into cache.dA[L-1]), then the last activation's backward.  The cache is sized.
template <class T> void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& cache, T scale,
                                      arma::uword t0, arma::uword t1);
// theta <- theta - lr grad for every W and b (after a backward pass that did not take the step).
template <class T> void apply_sgd(const InPassSgd<T>& sgd, const Grads<T>& grads);

}  // namespace nnlab
