// nnlab/backend.hpp -- one interface, four ways to compute the same equations.
//
//   naive   scalar loops over samples, neurons and inputs (the documented reference)
//   matrix  Armadillo expressions only: W*A, W.t()*dZ, dZ*A.t(), sum(dZ,1) -> BLAS
//   openmp  the loop form parallelised with OpenMP; every output element is computed by
//           one thread in a fixed order, so results are bit-identical for any thread count
//   graph   the reverse-mode autodiff engine of nnlab/graph.hpp
//   mpi     data parallelism: the batch cut into fixed shards spread over MPI processes, the
//           openmp equations on each shard, the shard gradients added along a fixed tree, so
//           that the result is the same for any number of processes (nnlab/mpi.hpp)
//
// Forward fills the cache (Z[l], A[l]); cost() reads it; backward() computes dZ[L] from the
// loss, runs back through the layers (dW, db, dA[l-1], dZ[l-1]) and adds the regularisation
// gradient.  vjp() runs the same backward pass from any output gradient dA[L] (no loss,
// no 1/m, no regularisation): one call per sample and output gives the rows of the
// per-sample Jacobian that Gauss-Newton needs.
#pragma once
#include "nnlab/network.hpp"

#include <memory>
#include <optional>
#include <string_view>

namespace nnlab {

enum class BackendKind { naive, matrix, openmp, graph, mpi };
inline constexpr BackendKind kAllBackends[] = {BackendKind::naive, BackendKind::matrix, BackendKind::openmp,
                                               BackendKind::graph, BackendKind::mpi};
std::string_view name(BackendKind b);
std::optional<BackendKind> backend_from_name(std::string_view s);

template <class T = double> class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;

  // X is n_0 x m.  Fills cache.Z, cache.A (resizing the cache if needed).
  virtual void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& cache) = 0;
  // J from the forward cache: mean loss + regularisation.
  virtual T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& cache) = 0;
  // dJ/dW, dJ/db (regularisation included) and, if want_dX, dJ/dX; needs forward() first.
  virtual void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                        Cache<T>& cache, Grads<T>& grads, bool want_dX = false);
  // The backward pass from an arbitrary output gradient dA_L (n_L x m): fills grads with
  // sum_i dA_L(:,i)' dA[L](:,i)/dtheta.  Needs forward() first.
  virtual void vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L,
                   Cache<T>& cache, Grads<T>& grads, bool want_dX = false);

  // For data-parallel backends (mpi): the backward pass of a part of a batch (after forward()
  // of the part) with the weight gradients summed per shard of `shard` columns -- leaves[s] for
  // columns [s*shard, min((s+1)*shard, m)) -- from the loss gradient scaled by `scale` (1 / the
  // whole batch's m; dA_L == nullptr) or from an output gradient dA_L (a vjp); no
  // regularisation; dX of every column if dX != nullptr.  Only the openmp backend has it
  // (its sums do not depend on the thread count); the others throw std::logic_error.
  virtual void sharded_backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                                const arma::Mat<T>* dA_L, Cache<T>& cache, std::size_t shard, T scale,
                                std::vector<Grads<T>>& leaves, arma::Mat<T>* dX);

  // forward + cost + backward; returns J.  The same numbers as the three calls (the openmp
  // backend's samples schedule runs them in one parallel region: one fork/join per step).
  virtual T value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                           Cache<T>& cache, Grads<T>& grads, bool want_dX = false);
  // Convenience: forward + cost.
  T value(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache);
  // One step of plain gradient descent on this batch: value_and_grad, then W -= lr dW and
  // b -= lr db in every layer (optim::Sgd's update); returns J before the update.  The matrix
  // backend, for a network without l1/l2 terms, folds the weight update into the weight-
  // gradient product: W <- W - lr dZ A' is one gemm (alpha = -lr, beta = 1) onto W, made after
  // dA = W' dZ has used the old W, so dW is never formed and grads.dW is left as it was
  // (grads.db and grads.dX are filled).  That saves a pass over W and dW per layer: the
  // 1024-wide double step on 2 threads 0.89-0.90 -> 0.93-0.95 of its dgemm calls (README).
  // Its rounding differs from the separate update (OpenBLAS adds -lr times each block of the
  // sum over samples to W), by about the rounding of the update itself.  The openmp backend
  // (no l1/l2) makes the same update as optim::Sgd, with the same bits, inside its backward
  // pass's parallel region, the threads each updating a range of W (grads filled as usual).
  virtual T sgd_step(Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
                     Grads<T>& grads, T lr, bool want_dX = false);

 protected:
  // J from the output layer in the cache: the per-sample losses (nnlab/loss.hpp) summed in
  // sample order, / m, plus the regularisation (the cost() of matrix and mpi).
  static T mean_loss(const Network<T>& net, const arma::Mat<T>& Y, const Cache<T>& cache);
  // cache.dZ[L-1] <- scale * gradient of the summed loss with respect to Z[L] (scale = 1/m:
  // the mean loss).
  virtual void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& cache, T scale) = 0;
  // cache.dZ[L-1] <- dA_L o g_L'(Z[L]) (softmax: its JVP).
  virtual void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& cache) = 0;
  // From cache.dZ[L-1] down to layer 1: dW, db, dA, dZ; dX = dA[0] if asked.
  virtual void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& cache,
                        Grads<T>& grads, bool want_dX) = 0;
};

// threads: the OpenMP thread count of the openmp and mpi backends (>= 1); the others do not
// start threads of their own (BLAS threads are set with set_blas_threads, nnlab/blas.hpp).
template <class T = double>
std::unique_ptr<Backend<T>> make_backend(BackendKind kind, int threads = 1);

// One owner of the cores (README, "Threads"): matrix and graph compute in OpenBLAS, which gets
// `threads`; the others run loops of their own (OpenMP for openmp and mpi), so OpenBLAS gets 1
// thread and its idle workers are parked (park_blas_threads, nnlab/blas.hpp).  Matrix and graph
// on 1 thread park them too: a worker left spinning by an earlier 2-thread product would run
// beside the 1-thread work for its ~65 ms.
void give_cores(BackendKind kind, int threads);

// How the openmp backend shares its work among threads (the same sums, the same bits, either
// way; lib/src/backend_openmp.cpp): tiles = the threads share the tiles of each product;
// samples = each thread carries its own chunks of samples through all the layers; automatic
// (what make_backend gives) = samples for small networks, tiles otherwise.  Forcing one is
// for tests and benchmarks.
enum class OpenmpSchedule { automatic, tiles, samples };
template <class T = double>
std::unique_ptr<Backend<T>> make_openmp_backend(int threads, OpenmpSchedule schedule = OpenmpSchedule::automatic);

}  // namespace nnlab
