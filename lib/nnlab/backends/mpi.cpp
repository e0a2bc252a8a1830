// mpi backend: data parallelism.  The batch (m columns) is cut into S = ceil(m / kShard) shards
// of kShard samples -- a cut that does not depend on the number of processes R.  Each process
// takes a contiguous range of shards (mpi::my_range) and runs the openmp backend's equations on
// its columns: forward (every column on its own: no sum over samples), then the backward pass
// with the loss gradient scaled by 1/m of the whole batch and the weight gradients summed per
// shard (OpenmpBackend::sharded_backward): dW_s = sum over the shard's samples of dZ a', db_s = sum
// of dZ, each in sample order.  The shard
// gradients are added along the fixed tree of nnlab/runtime/mpi.hpp (MPI_Allgatherv of the subtree
// sums), the regularisation gradient is added, and every process holds the same gradient,
// bit for bit, for R = 1, 2, 3, ...  The forward cache (Z[l], A[l] of the whole batch) is
// gathered (MPI_Allgatherv) so that cost(), the accuracy and the callers see every sample.
//
// Without MPI (or without mpirun) R = 1 and this is the same arithmetic in one process: the
// reference that the tests compare `mpirun -np R` runs with.
#include "nnlab/backends/backend.hpp"
#include "nnlab/backends/openmp.hpp"
#include "nnlab/runtime/mpi.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace nnlab {


namespace {

constexpr std::size_t kShard = 32;  // samples per shard (fixes the summation tree)

template <class T> class MpiBackend final : public Backend<T> {
 public:
  explicit MpiBackend(int threads) : local_(make_openmp_backend<T>(threads)) {}
  BackendKind kind() const override { return BackendKind::mpi; }

  // This process's columns in one openmp forward pass (each column on its own), then the
  // forward cache of the whole batch gathered on every process (cost, accuracy, kinks).
  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    const double t0 = mpi::wtime();
    plan(X.n_cols);
    mine(X, Xl_);
    local_->forward(net, Xl_, lc_);
    const std::size_t L = net.depth();
    c.Z.resize(L); c.A.resize(L); c.dZ.resize(L); c.dA.resize(L);
    const double t1 = mpi::wtime();
    for (std::size_t l = 0; l < L; ++l) {
      gather(lc_.Z[l], c.Z[l]);
      gather(lc_.A[l], c.A[l]);
    }
    mpi::timing().compute += t1 - t0;
    mpi::timing().comm += mpi::wtime() - t1;
  }

  // cost() is Backend's, on the gathered output layer: the same on every process.

  void backward(const Network<T>& net, const arma::Mat<T>&, const arma::Mat<T>& Y, Cache<T>&, Grads<T>& g,
                bool want_dX) override {
    mine(Y, Yl_);
    run(net, nullptr, T(1) / T(m_), g, want_dX);
    add_regularization_grad(net, g);
  }

  void vjp(const Network<T>& net, const arma::Mat<T>&, const arma::Mat<T>& dA_L, Cache<T>&, Grads<T>& g,
           bool want_dX) override {
    mine(dA_L, Yl_);
    run(net, &Yl_, T(1), g, want_dX);
  }

 private:
  std::size_t col(std::size_t s) const { return std::min(s * kShard, m_); }
  // This process's columns of M (none when it has no shard: S < R).
  void mine(const arma::Mat<T>& M, arma::Mat<T>& out) const {
    if (col(hi_) == col(lo_)) out.set_size(M.n_rows, 0);
    else out = M.cols(col(lo_), col(hi_) - 1);
  }

  void plan(std::size_t m) {
    m_ = m;
    S_ = (m + kShard - 1) / kShard;
    std::tie(lo_, hi_) = mpi::my_range(S_, mpi::rank(), mpi::size());
  }

  // Per-shard gradients of this process's columns, their tree sum over all processes into g.
  void run(const Network<T>& net, const arma::Mat<T>* dA_L, T scale, Grads<T>& g, bool want_dX) {
    const double t0 = mpi::wtime(), comm0 = mpi::timing().comm;
    local_->sharded_backward(net, Xl_, Yl_, dA_L, lc_, kShard, scale, leaves_, want_dX ? &dXl_ : nullptr);
    const std::size_t P = net.n_params();
    flat_.resize(leaves_.size());
    ptr_.resize(leaves_.size());
    for (std::size_t s = 0; s < leaves_.size(); ++s) {  // dW[0] (column-major), db[0], dW[1], ...
      flat_[s].set_size(P);
      T* f = flat_[s].memptr();
      for (std::size_t l = 0; l < net.depth(); ++l) {
        f = std::copy(leaves_[s].dW[l].begin(), leaves_[s].dW[l].end(), f);
        f = std::copy(leaves_[s].db[l].begin(), leaves_[s].db[l].end(), f);
      }
      ptr_[s] = flat_[s].memptr();
    }
    sum_.set_size(P);
    mpi::tree_allreduce<T>(S_, ptr_, P, sum_.memptr());  // its MPI call adds to timing().comm
    const arma::Col<T>& sum = sum_;
    const std::size_t L = net.depth();
    g.dW.resize(L);
    g.db.resize(L);
    std::size_t k = 0;
    for (std::size_t l = 0; l < L; ++l) {
      const auto& W = net.layers[l].W;
      g.dW[l].set_size(W.n_rows, W.n_cols);
      std::copy(sum.begin() + long(k), sum.begin() + long(k + W.n_elem), g.dW[l].begin());
      k += W.n_elem;
      g.db[l].set_size(W.n_rows);
      std::copy(sum.begin() + long(k), sum.begin() + long(k + W.n_rows), g.db[l].begin());
      k += W.n_rows;
    }
    mpi::timing().compute += (mpi::wtime() - t0) - (mpi::timing().comm - comm0);
    if (want_dX) gather(dXl_, g.dX);
  }

  // M (rows x m) <- every process's local columns P, in rank order.
  void gather(const arma::Mat<T>& P, arma::Mat<T>& M) {
    const int R = mpi::size();
    std::vector<std::size_t> counts(static_cast<std::size_t>(R));
    for (int q = 0; q < R; ++q) {
      const auto [a, b] = mpi::my_range(S_, q, R);
      counts[std::size_t(q)] = P.n_rows * (col(b) - col(a));
    }
    M.set_size(P.n_rows, m_);
    mpi::allgatherv<T>(P.memptr(), counts, M.memptr());
  }

  std::unique_ptr<OpenmpBackend<T>> local_;
  std::size_t m_ = 0, S_ = 0, lo_ = 0, hi_ = 0;
  Cache<T> lc_;                     // this process's columns
  std::vector<Grads<T>> leaves_;    // one per local shard
  arma::Mat<T> Xl_, Yl_, dXl_;
  std::vector<arma::Col<T>> flat_;  // the leaves flattened (workspaces)
  std::vector<const T*> ptr_;
  arma::Col<T> sum_;
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_mpi_backend(int threads) {
  return std::make_unique<MpiBackend<T>>(threads);
}
template std::unique_ptr<Backend<float>> make_mpi_backend<float>(int);
template std::unique_ptr<Backend<double>> make_mpi_backend<double>(int);

}  // namespace nnlab
