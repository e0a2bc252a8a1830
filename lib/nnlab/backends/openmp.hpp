// nnlab/backends/openmp.hpp -- the openmp backend: the naive loops, tiled and parallelised
// with OpenMP, the same bits for any thread count (openmp.cpp says how).
#pragma once
#include "nnlab/backends/backend.hpp"

#include <vector>

namespace nnlab {

// How the threads share the work (the same sums, the same bits, either way):
//   tiles    the threads share the tiles of each product (wide layers);
//   samples  each thread carries its own chunks of samples through all the layers (narrow
//            layers: no barrier between layers);
//   automatic (what make_backend gives) samples for small networks, tiles otherwise.
enum class OpenmpSchedule { automatic, tiles, samples };

template <class T = double> class OpenmpBackend : public Backend<T> {
 public:
  BackendKind kind() const override { return BackendKind::openmp; }
  // The data-parallel form of the backward pass (the mpi backend's per-process work): after
  // forward() of a part of a batch, its gradients summed per shard of `shard` samples --
  // leaves[s] for the columns [s shard, min((s + 1) shard, m)) -- from the loss gradient times
  // `scale` (1 / the whole batch's m) or, when dA_L is given, from that output gradient (a
  // vjp); no regularisation; dX of every column when dX is given.  The shards, not the
  // threads, fix every sum.
  virtual void sharded_backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                                const arma::Mat<T>* dA_L, Cache<T>& cache, std::size_t shard, T scale,
                                std::vector<Grads<T>>& leaves, arma::Mat<T>* dX) = 0;
};

template <class T = double>
std::unique_ptr<OpenmpBackend<T>> make_openmp_backend(int threads, OpenmpSchedule schedule = OpenmpSchedule::automatic);

}  // namespace nnlab
