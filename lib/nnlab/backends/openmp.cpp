// openmp backend: the naive loops (naive.hpp), tiled and parallelised with OpenMP; no BLAS
// (OpenMP owns the cores).  Each product of a layer is one call of the kernel
// (openmp_kernel.hpp), with the layer's elementwise work fused into its finished tiles:
//
//   forward   Z    = b + W Ain       A = g(Z) on each tile of Z
//   backward  dW   = dZ Ain'         db = sum_t dZ(:, t) from the packed strips of dZ
//             dAin = W' dZ           dZin = dAin o g'(Zin) on each tile of dAin
//
// The same bits for any thread count: every element of Z and dAin is one fma chain, and the
// sums over samples of dW and db are cut into chunks of G = kChunk samples at fixed places,
// dW = dW_0 + dW_1 + ... in that order; the threads decide neither.  (Against the naive
// backend, the last bits differ: one rounding per fused multiply-add, and the chunked sums.)
// Per-sample losses are summed serially.
//
// Two schedules compute the same sums:
//   tiles    one parallel region per pass, the threads sharing the tiles of each product (a
//            barrier after each): for wide layers, where every product has work for all.
//   samples  each thread takes its own chunks of samples through all the layers, forward,
//            loss and backward, keeping one gradient per chunk (a "leaf"); one barrier, then
//            the threads add the leaves.  For narrow layers, where a barrier per product costs
//            as much as the product; it holds S = m / G copies of the gradients.
//
// Letters: n = neurons of the layer, k = its inputs, m = samples.
#include "nnlab/backends/openmp.hpp"

#include "nnlab/backends/openmp_kernel.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/methods/optim.hpp"

#include <string>

namespace nnlab {
namespace {

using namespace omp_kernel;

// Below this much work a region runs on the calling thread alone (waking the team would cost
// more than it saves); which thread computes an element never changes its bits.
constexpr uword kMinParallelWork = 16384;    // elements of an elementwise loop
constexpr uword kMinParallelFmas = 1 << 17;  // fused multiply-adds of a pass (~10 us)
// G: samples per chunk of a sum over samples.  The mpi backend's shards (32) are single chains.
constexpr uword kChunk = 64;
// The samples schedule (automatic) is taken when its S copies of the gradients hold at most
// this many numbers (2 MB of doubles) and the batch has at least two chunks.
constexpr uword kMaxChunkCopies = 1 << 18;

template <class T> class Openmp final : public OpenmpBackend<T> {
 public:
  Openmp(int threads, OpenmpSchedule sched) : nt_(threads), sched_(sched) {}

  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    const uword m = X.n_cols;
    [[maybe_unused]] const uword fmas = size_forward(net, m, c);
    if (by_samples(net, m)) {
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
      {
        const auto [c0, c1] = my_columns(m, kChunk);
        for (std::size_t l = 0; l < net.depth() && c1 > c0; ++l) forward_layer(net, l, X, c, c0, c1, my_pack());
      }
      return;
    }
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
    for (std::size_t l = 0; l < net.depth(); ++l) {  // Z = b + W Ain, A = g(Z)
      const auto& Ly = net.layers[l];
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      T* Z = c.Z[l].memptr();
      T* A = c.A[l].memptr();
      const uword n = Ly.W.n_rows, k = Ly.W.n_cols;
      const bool softmax = Ly.act == Activation::softmax;
      gemm_tiles<T>({n, m, k, Ly.W.memptr(), n, false, Ain.memptr(), k, Z, Ly.b.memptr()}, pack_,
                    [&](uword i0, uword j0, uword mr, uword nr) {
                      if (!softmax) act::forward_block(Ly.act, Z + i0 + j0 * n, A + i0 + j0 * n, mr, nr, n);
                    }, kNoStrip);
      if (softmax) {
#pragma omp for schedule(static)
        for (uword t = 0; t < m; ++t) act::softmax_col(Z + t * n, A + t * n, n);
      }
    }
  }

  void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    const T scale = T(1) / T(X.n_cols);
    arma::Mat<T>* dX = want_dX ? &g.dX : nullptr;
    if (by_samples(net, X.n_cols)) {  // the loss gradient of each thread's columns in the region
      backprop_samples(net, X, c, kChunk, leaves_, &g, dX, &Y, scale);
    } else {
      output_gradient(c, [&](uword t0, uword t1) { loss_backward(net, Y, c, scale, t0, t1); });
      backprop_tiles(net, X, c, g, dX);
    }
    add_regularization_grad(net, g);
  }

  void vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L, Cache<T>& c, Grads<T>& g,
           bool want_dX) override {
    output_gradient(c, [&](uword t0, uword t1) { output_backward(net, dA_L, c, t0, t1); });
    arma::Mat<T>* dX = want_dX ? &g.dX : nullptr;
    if (by_samples(net, X.n_cols)) backprop_samples(net, X, c, kChunk, leaves_, &g, dX);
    else backprop_tiles(net, X, c, g, dX);
  }

  // samples: forward, losses, loss gradient and backward of each thread's chunks in one
  // parallel region (one fork/join per step).  With sgd (no l1/l2), the update in the region.
  T value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                   bool want_dX, const InPassSgd<T>* sgd) override {
    if (sgd && (net.l1 != T(0) || net.l2 != T(0))) return Backend<T>::value_and_grad(net, X, Y, c, g, want_dX, sgd);
    const uword m = X.n_cols;
    arma::Mat<T>* dX = want_dX ? &g.dX : nullptr;
    T J;
    if (by_samples(net, m)) {
      const uword fmas = size_forward(net, m, c);
      backprop_samples(net, X, c, kChunk, leaves_, &g, dX, &Y, T(1) / T(m), fmas, sgd);
      J = 0;
      for (uword t = 0; t < m; ++t) J += c.loss_col[t];  // Backend::cost's sum, from the region's losses
      J = J / T(m) + regularization(net);
    } else {
      forward(net, X, c);
      J = this->cost(net, Y, c);
      output_gradient(c, [&](uword t0, uword t1) { loss_backward(net, Y, c, T(1) / T(m), t0, t1); });
      backprop_tiles(net, X, c, g, dX, sgd);
    }
    add_regularization_grad(net, g);
    return J;
  }

  // The samples schedule with the mpi backend's shards for chunks.
  void sharded_backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, const arma::Mat<T>* dA_L,
                        Cache<T>& c, std::size_t shard, T scale, std::vector<Grads<T>>& leaves,
                        arma::Mat<T>* dX) override {
    if (dA_L) output_gradient(c, [&](uword t0, uword t1) { output_backward(net, *dA_L, c, t0, t1); });
    else output_gradient(c, [&](uword t0, uword t1) { loss_backward(net, Y, c, scale, t0, t1); });
    backprop_samples(net, X, c, shard ? uword(shard) : uword(X.n_cols), leaves, nullptr, dX);
  }

 private:
  // Layer l of the forward pass on columns [c0, c1), by the calling thread.
  void forward_layer(const Network<T>& net, std::size_t l, const arma::Mat<T>& X, Cache<T>& c, uword c0, uword c1,
                     T* a) {
    const auto& Ly = net.layers[l];
    const auto& Ain = l == 0 ? X : c.A[l - 1];
    T* Z = c.Z[l].memptr();
    T* A = c.A[l].memptr();
    const uword n = Ly.W.n_rows, k = Ly.W.n_cols;
    gemm_serial<T>({n, c1 - c0, k, Ly.W.memptr(), n, false, Ain.colptr(c0), k, Z + c0 * n, Ly.b.memptr()}, a,
                   [&](uword i0, uword j0, uword mr, uword nr) {
                     const uword o = i0 + (c0 + j0) * n;
                     if (Ly.act != Activation::softmax) act::forward_block(Ly.act, Z + o, A + o, mr, nr, n);
                   }, kNoStrip);
    if (Ly.act == Activation::softmax)
      for (uword t = c0; t < c1; ++t) act::softmax_col(Z + t * n, A + t * n, n);
  }

  // dZ[L] of all columns, grad(t0, t1) computing those of [t0, t1), shared by the threads.
  template <class Grad> void output_gradient(const Cache<T>& c, Grad grad) {
    [[maybe_unused]] const uword work = c.A.back().n_elem;
    const uword m = c.A.back().n_cols;
#pragma omp parallel num_threads(nt_) if(work >= kMinParallelWork)
    {
      const auto [t0, t1] = my_chunks(m);
      grad(t0, t1);
    }
  }
  // dZ[L] = dA_L o g_L'(Z[L]) on the columns [t0, t1) (the start of a vjp).
  static void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c, uword t0, uword t1) {
    const uword n = dA_L.n_rows;
    act::backward_block(net.layers.back().act, c.Z.back().colptr(t0), c.A.back().colptr(t0), dA_L.colptr(t0),
                        c.dZ.back().colptr(t0), n, t1 - t0, n);
  }

  // tiles: one parallel region; per layer, from the top
  //   Ain in NR-row panels (each tile of dW reads B = Ain' as one stream)
  //   dW = dZ Ain' in chunks of G samples, db the same chunked sums from the packed strips of dZ
  //   dAin = W' dZ, with dZin = dAin o g'(Zin) fused into each tile (softmax: a second loop)
  // With sgd, dAin first (it reads the old W), then dW, after which the threads update W, each
  // a contiguous range, and each strip of db updates its rows of b.
  void backprop_tiles(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g, arma::Mat<T>* dX,
                      const InPassSgd<T>* sgd = nullptr) {
    const std::size_t L = net.depth();
    const uword m = X.n_cols;
    [[maybe_unused]] const uword fmas = size_backward(net, X, c, &g, 1, dX, m);
    constexpr uword NR = TileSize<T>::NR;
    uword maxT = 0;
    for (const auto& Ly : net.layers) maxT = std::max(maxT, m * ((Ly.W.n_cols + NR - 1) / NR * NR));
    panels_.set_size(maxT);  // one layer's Ain at a time (the products end at a barrier)
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
    for (std::size_t l = L; l-- > 0;) {
      const auto& W = net.layers[l].W;
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      const auto& dZ = c.dZ[l];
      const uword n = W.n_rows, k = W.n_cols;
      T* dW = g.dW[l].memptr();
      T* db = g.db[l].memptr();
      T* W1 = sgd ? sgd->net->layers[l].W.memptr() : nullptr;  // updated in place
      T* b1 = sgd ? sgd->net->layers[l].b.memptr() : nullptr;
      const auto weight_grad = [&] {
        pack_panels(Ain, panels_.memptr());
        gemm_tiles<T>({n, k, m, dZ.memptr(), n, false, panels_.memptr(), NR, dW, nullptr, kChunk,
                       /*transB=*/false, /*panels=*/true}, pack_, kNoEpilogue,
                      [&](uword i0, uword mr, const T* a, uword MR) {
                        strip_row_sums(db + i0, a, m, kChunk, mr, MR);
                        if (b1) optim::sgd_update(b1 + i0, db + i0, mr, sgd->lr);
                      });
        if (!W1) return;
        // After the product's barrier, each thread a contiguous range of W (a stream the
        // prefetchers follow); nothing reads W[l] again in this step.
        const auto [e0, e1] = my_chunks(n * k);
        optim::sgd_update(W1 + e0, dW + e0, e1 - e0, sgd->lr);
      };
      if (!sgd) weight_grad();
      if (arma::Mat<T>* dAin = l > 0 ? &c.dA[l - 1] : dX) {
        const Activation g_in = l > 0 ? net.layers[l - 1].act : Activation::identity;
        const bool fuse = l > 0 && g_in != Activation::softmax;
        gemm_tiles<T>({k, m, n, W.memptr(), n, true, dZ.memptr(), n, dAin->memptr()}, pack_,
                      [&](uword i0, uword j0, uword mr, uword nr) {
                        const uword o = i0 + j0 * k;
                        if (fuse)
                          act::backward_block(g_in, c.Z[l - 1].memptr() + o, c.A[l - 1].memptr() + o,
                                              dAin->memptr() + o, c.dZ[l - 1].memptr() + o, mr, nr, k);
                      }, kNoStrip);
        if (l > 0 && !fuse) {
#pragma omp for schedule(static)
          for (uword t = 0; t < m; ++t)
            act::softmax_col_backward(c.A[l - 1].colptr(t), dAin->colptr(t), c.dZ[l - 1].colptr(t), k);
        }
      }
      if (sgd) weight_grad();  // after dAin = W' dZ has read the old W (the products end at a barrier)
    }
  }

  // samples: the batch in S = ceil(m / shard) shards; leaves[s] = the gradients of shard s
  // (each sum cut in chunks of G).  Each thread takes a contiguous range of shards down
  // through all the layers (dW, db of each of its shards; dAin = W' dZ and g' of its columns)
  // with no barrier; then, if total, one barrier and total = leaves[0] + leaves[1] + ... in
  // that order, element by element, shared among the threads.
  // With Y, the region starts from the loss gradient of each thread's columns; with
  // forward_fmas > 0 also from their forward pass and losses (c.loss_col).  With sgd (needs
  // total) each thread then updates the parameters whose totals it has just made.
  void backprop_samples(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, uword shard,
                        std::vector<Grads<T>>& leaves, Grads<T>* total, arma::Mat<T>* dX,
                        const arma::Mat<T>* Y = nullptr, T scale = 1, uword forward_fmas = 0,
                        const InPassSgd<T>* sgd = nullptr) {
    const std::size_t L = net.depth();
    const uword m = X.n_cols, S = (m + shard - 1) / shard;
    const bool resize = leaves_changed(net, leaves, m, shard);
    if (resize) leaves.resize(S);
    [[maybe_unused]] const uword fmas =
        forward_fmas + size_backward(net, X, c, leaves.data(), S, dX, std::min(shard, m), resize);
    if (total) size_backward(net, X, c, total, 1, nullptr, 0);
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
    {
      const auto [c0, c1] = my_columns(m, shard);
      const uword s0 = c0 / shard, s1 = (c1 + shard - 1) / shard;
      T* a = my_pack();
      if (forward_fmas && c1 > c0) {
        for (std::size_t l = 0; l < L; ++l) forward_layer(net, l, X, c, c0, c1, a);
        for (uword t = c0; t < c1; ++t)
          c.loss_col[t] = lossfn::value(net.loss, c.Z.back().colptr(t), c.A.back().colptr(t), Y->colptr(t),
                                        c.A.back().n_rows);
      }
      if (Y) loss_backward(net, *Y, c, scale, c0, c1);
      for (std::size_t l = L; l-- > 0 && c1 > c0;) {
        const auto& W = net.layers[l].W;
        const auto& Ain = l == 0 ? X : c.A[l - 1];
        const auto& dZ = c.dZ[l];
        const uword n = W.n_rows, k = W.n_cols;
        for (uword s = s0; s < s1; ++s) {  // dW, db of each shard
          const uword t0 = s * shard, t1 = std::min(m, t0 + shard);
          T* db = leaves[s].db[l].memptr();
          gemm_serial<T>({n, k, t1 - t0, dZ.colptr(t0), n, false, Ain.colptr(t0), k, leaves[s].dW[l].memptr(),
                          nullptr, kChunk, true}, a, kNoEpilogue,
                         [&](uword i0, uword mr, const T* p, uword MR) {
                           strip_row_sums(db + i0, p, t1 - t0, kChunk, mr, MR);
                         });
        }
        arma::Mat<T>* dAin = l > 0 ? &c.dA[l - 1] : dX;
        if (!dAin) continue;
        const Activation g_in = l > 0 ? net.layers[l - 1].act : Activation::identity;
        const bool fuse = l > 0 && g_in != Activation::softmax;
        gemm_serial<T>({k, c1 - c0, n, W.memptr(), n, true, dZ.colptr(c0), n, dAin->colptr(c0)}, a,
                       [&](uword i0, uword j0, uword mr, uword nr) {
                         const uword o = i0 + (c0 + j0) * k;
                         if (fuse)
                           act::backward_block(g_in, c.Z[l - 1].memptr() + o, c.A[l - 1].memptr() + o,
                                               dAin->memptr() + o, c.dZ[l - 1].memptr() + o, mr, nr, k);
                       }, kNoStrip);
        if (l > 0 && !fuse)
          for (uword t = c0; t < c1; ++t)
            act::softmax_col_backward(c.A[l - 1].colptr(t), dAin->colptr(t), c.dZ[l - 1].colptr(t), k);
      }
      if (total) {
#pragma omp barrier
        for (std::size_t l = 0; l < L; ++l) {
          T* W1 = sgd ? sgd->net->layers[l].W.memptr() : nullptr;
          T* b1 = sgd ? sgd->net->layers[l].b.memptr() : nullptr;
          const T lr = sgd ? sgd->lr : T(0);
          sum_leaves<T>(S, [&](uword s) { return leaves[s].dW[l].memptr(); }, total->dW[l].memptr(),
                        total->dW[l].n_elem, W1, lr, optim::sgd_update<T>);
          sum_leaves<T>(S, [&](uword s) { return leaves[s].db[l].memptr(); }, total->db[l].memptr(),
                        total->db[l].n_elem, b1, lr, optim::sgd_update<T>);
        }
      }
    }
  }

  // Sizes the cache and the packing buffers for forward(); returns its fused multiply-adds.
  uword size_forward(const Network<T>& net, uword m, Cache<T>& c) {
    c.resize(net, m);
    uword fmas = 0, maxK = 0;
    for (const auto& Ly : net.layers) {
      fmas += Ly.W.n_rows * Ly.W.n_cols * m;
      maxK = std::max(maxK, Ly.W.n_cols);
    }
    reserve_pack(pack_, std::size_t(nt_), maxK);
    return fmas;
  }
  // Sizes the gradients g[0..G) (unless size_grads is false) and the backward workspaces;
  // returns the pass's fused multiply-adds.
  uword size_backward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>* g, std::size_t G,
                      arma::Mat<T>* dX, uword K, bool size_grads = true) {
    const std::size_t L = net.depth();
    const uword m = X.n_cols;
    uword fmas = 0, maxK = K;
    for (std::size_t l = 0; l < L; ++l) {
      const uword n = net.layers[l].W.n_rows, k = net.layers[l].W.n_cols;
      for (std::size_t s = 0; s < G && size_grads; ++s) {
        g[s].dW.resize(L);
        g[s].db.resize(L);
        g[s].dW[l].set_size(n, k);
        g[s].db[l].set_size(n);
      }
      fmas += 2 * n * k * m;
      maxK = std::max(maxK, n);
    }
    for (std::size_t l = 1; l < L; ++l) c.dA[l - 1].set_size(net.layers[l].W.n_cols, m);
    if (dX) dX->set_size(X.n_rows, m);
    reserve_pack(pack_, std::size_t(nt_), maxK);
    return fmas;
  }
  // Whether the leaves must be sized again (their shapes changed).  Sized once, not every
  // step: their headers share cache lines with small gradients that other threads have just
  // written, and touching them all on one thread cost more than the step's barrier.
  bool leaves_changed(const Network<T>& net, const std::vector<Grads<T>>& leaves, uword m, uword shard) {
    std::vector<uword>& key = leaves_key_;
    bool changed = key.size() != 3 + 2 * net.depth();
    if (changed) key.assign(3 + 2 * net.depth(), 0);  // allocates only when the depth changes
    const auto set = [&](std::size_t i, uword v) {
      changed = changed || key[i] != v;
      key[i] = v;
    };
    set(0, uword(reinterpret_cast<std::uintptr_t>(&leaves)));
    set(1, m);
    set(2, shard);
    for (std::size_t l = 0; l < net.depth(); ++l) {
      set(3 + 2 * l, net.layers[l].W.n_rows);
      set(4 + 2 * l, net.layers[l].W.n_cols);
    }
    return changed;
  }
  bool by_samples(const Network<T>& net, uword m) const {
    if (sched_ != OpenmpSchedule::automatic) return sched_ == OpenmpSchedule::samples;
    const uword chunks = (m + kChunk - 1) / kChunk;
    return chunks >= 2 && chunks * net.n_params() <= kMaxChunkCopies;
  }
  // This thread's columns: a contiguous range of whole chunks of `chunk` samples.
  static std::pair<uword, uword> my_columns(uword m, uword chunk) {
    const auto [s0, s1] = my_chunks((m + chunk - 1) / chunk);
    return {s0 * chunk, std::min(m, s1 * chunk)};
  }
  T* my_pack() { return pack_[thread_num()].data(); }

  int nt_;
  OpenmpSchedule sched_;
  arma::Col<T> panels_;            // tiles: Ain of the layer being differentiated, in panels
  PackBuffers<T> pack_;            // one packed A strip per thread
  std::vector<Grads<T>> leaves_;   // samples: the gradients of each chunk
  std::vector<uword> leaves_key_;  // the shapes the leaves were last sized for
};

}  // namespace

template <class T> std::unique_ptr<OpenmpBackend<T>> make_openmp_backend(int threads, OpenmpSchedule schedule) {
  if (threads < 1) throw InputError("make_openmp_backend: threads must be >= 1, got " + std::to_string(threads));
  return std::make_unique<Openmp<T>>(threads, schedule);
}
template std::unique_ptr<OpenmpBackend<float>> make_openmp_backend<float>(int, OpenmpSchedule);
template std::unique_ptr<OpenmpBackend<double>> make_openmp_backend<double>(int, OpenmpSchedule);

}  // namespace nnlab
