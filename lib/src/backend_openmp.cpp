// openmp backend: the naive loops, tiled and parallelised with OpenMP (no BLAS: OpenMP owns
// the cores).  All three products of a layer are one loop nest, gemm_tiles() below, with the
// elementwise work of the layer fused into it:
//
//   forward   Z   = b + W Ain        C = Z   (n x m), A-operand W   (n x k), B = Ain      (k x m)
//             A   = g(Z)             on each finished tile of Z
//   backward  dW  = dZ Ain'          C = dW  (n x k), A-operand dZ  (n x m), B = Ain'     (m x k)
//             db  = sum_t dZ(:, t)   from the packed strips of dZ
//             dAin = W' dZ           C = dAin (k x m), A-operand W' (k x n), B = dZ       (n x m)
//             dZin = dAin o g'(Zin)  on each finished tile of dAin
//
// (Ain' is copied once per layer into a workspace so that B is read down contiguous columns;
// W' is never formed: the packing of the A-operand reads W across.)  Parallelism: one region
// per pass (forward, backward), one `omp for` over the tiles of each product.
//
// Tiling.  C is cut into tiles of MR x NR elements (MR = two 512-bit vectors of T: 16 doubles
// or 32 floats; NR = 4).  A tile's MR*NR sums stay in registers during the whole loop over the
// inner index p, which reads one MR-long piece of an A column and NR numbers of B per step:
// 2*MR*NR flops for MR + NR loads.  Tiles are numbered row strip by row strip, so a thread
// keeps its A strip in L2 while it walks along B.
//
// Determinism.  Every element of C is one sum, C(i,j) = C0(i,j) + A(i,0) B(0,j) + A(i,1) B(1,j)
// + ..., accumulated with std::fma in the order p = 0, 1, ..., K-1 by exactly one thread.  The
// tiles are fixed by the shapes (not by the thread count), so the result is bit-for-bit the
// same for 1, 2, 3 or 8 threads.  (It differs from the naive backend in the last bits: one
// rounding per fused multiply-add instead of two.)  Per-sample losses are summed serially.
//
// Letters: n = neurons of the layer, k = its inputs, m = samples; M, N, K for a product.
#include "nnlab/backend.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#if defined(NNLAB_HAVE_OPENMP)
#include <omp.h>
#endif

namespace nnlab {
namespace {

using arma::uword;

// C(0:MR, 0:NR) = C0 + A(0:MR, 0:K) B(0:K, 0:NR), one tile.  a: the strip of A packed p-major
// (a[p*MR + i] = A(i, p)); b: columns of B, B(p, j) = b[p + j*ldb].  The sums start from
// C0(i, j) = c0[i + j*ldc0] (ldc0 = 0: one column for all, the bias) or from 0 (c0 = nullptr).
// Compile-time sizes: the MR*NR sums stay in registers for the whole loop over p.
template <class T, int MR, int NR>
inline void tile_full(uword K, const T* __restrict a, const T* __restrict b, uword ldb, T* C,
                      uword ldc, const T* c0, uword ldc0) {
  T acc[NR][MR];
  for (int j = 0; j < NR; ++j)
#pragma omp simd
    for (int i = 0; i < MR; ++i) acc[j][i] = c0 ? c0[i + j * ldc0] : T(0);
  for (uword p = 0; p < K; ++p) {
    const T* ap = a + p * MR;
    for (int j = 0; j < NR; ++j) {
      const T bpj = b[p + j * ldb];
#pragma omp simd
      for (int i = 0; i < MR; ++i) acc[j][i] = std::fma(ap[i], bpj, acc[j][i]);
    }
  }
  for (int j = 0; j < NR; ++j)
#pragma omp simd
    for (int i = 0; i < MR; ++i) C[i + j * ldc] = acc[j][i];
}

// An edge tile of mr x nr (mr <= MR, nr <= NR) through the same register kernel: its rows of C
// go through a local MR x NR tile (the packed strip is zero-padded below mr), its columns one
// at a time when nr < NR (B has no columns past nr).  Each element gets the same fma chain
// as in tile_full, so the bits do not depend on where the tile boundaries fall.
template <class T, int MR, int NR>
inline void tile_edge(uword mr, uword nr, uword K, const T* a, const T* b, uword ldb, T* C, uword ldc,
                      const T* c0, uword ldc0) {
  alignas(64) T Ct[MR * NR];
  for (uword j = 0; j < nr; ++j)
    for (uword i = 0; i < uword(MR); ++i) Ct[i + j * MR] = c0 && i < mr ? c0[i + j * ldc0] : T(0);
  if (nr == NR) tile_full<T, MR, NR>(K, a, b, ldb, Ct, MR, Ct, MR);
  else for (uword j = 0; j < nr; ++j) tile_full<T, MR, 1>(K, a, b + j * ldb, ldb, Ct + j * MR, MR, Ct + j * MR, MR);
  for (uword j = 0; j < nr; ++j)
    for (uword i = 0; i < mr; ++i) C[i + j * ldc] = Ct[i + j * MR];
}

// Storage aligned to 64 bytes (a cache line, one AVX-512 vector) for the packed strips: from
// malloc's 16-byte alignment, every vector load of a strip straddles two lines, and the
// step's speed then depended on where the heap happened to put the buffers (11 or 15 ms).
template <class T> struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U> Aligned64(const Aligned64<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const Aligned64&) const = default;
};
template <class T> using PackBuffers = std::vector<std::vector<T, Aligned64<T>>>;

// Below this much work a parallel region runs on the calling thread alone: waking the team
// and meeting at the barriers would cost more than the loops save.  Which thread computes an
// element never changes its bits, so this is free.
constexpr arma::uword kMinParallelWork = 16384;    // elements of an elementwise loop
constexpr arma::uword kMinParallelFmas = 1 << 17;  // fused multiply-adds of a pass (~10 us)

template <class T> struct TileSize {
  static constexpr int MR = 128 / sizeof(T);  // two 64-byte vectors: 16 doubles, 32 floats
  static constexpr int NR = 4;
};

// One product C (M x N, ldc = M) = C0 + op(A) B, B (K x N, ldb) column-major; op(A) = A
// (M x K, lda) or, with transA, the transpose of the K x M matrix A (lda = K): the packing
// reads either, so W' is never formed.  C0: bias (broadcast over columns) or nothing (0).
template <class T> struct Product {
  uword M, N, K;
  const T* A;
  uword lda;
  bool transA;
  const T* B;
  uword ldb;
  T* C;
  const T* bias = nullptr;
};

// The tiles of one product, shared among the threads of the enclosing parallel region (an
// orphaned `omp for`: called outside a region, the calling thread does them all).  Each
// thread packs the MR-row strip of op(A) it works on into its own buffer (p-major, so the tile
// reads one contiguous stream).  After a tile is written, epilogue(i0, j0, mr, nr) runs on it
// (the activation, or g' in the backward pass, fused into the product: no second pass over C);
// strip(i0, mr, a) runs once per strip, by the thread that computes its first tile, on the
// packed strip (db's row sums).  pack: one buffer per thread, at least K * MR long.
template <class T, class Epilogue, class Strip>
void gemm_tiles(const Product<T>& P, PackBuffers<T>& pack, Epilogue&& epilogue, Strip&& strip) {
  constexpr int MR = TileSize<T>::MR, NR = TileSize<T>::NR;
  const uword M = P.M, N = P.N, K = P.K, strips = (M + MR - 1) / MR, blocks = (N + NR - 1) / NR;
  int me = 0;
#if defined(NNLAB_HAVE_OPENMP)
  me = omp_get_thread_num();
#endif
  T* a = pack[std::size_t(me)].data();
  uword packed = strips;  // no strip packed yet
#pragma omp for schedule(static)
  for (uword t = 0; t < strips * blocks; ++t) {
    const uword s = t / blocks, i0 = s * MR, j0 = (t % blocks) * NR;
    const uword mr = std::min<uword>(MR, M - i0), nr = std::min<uword>(NR, N - j0);
    if (s != packed) {  // a[p*MR + i] = op(A)(i0 + i, p), zero-padded below an edge strip
      if (P.transA) {
        for (uword i = 0; i < uword(MR); ++i)
          for (uword p = 0; p < K; ++p) a[p * MR + i] = i < mr ? P.A[p + (i0 + i) * P.lda] : T(0);
      } else {
        for (uword p = 0; p < K; ++p)
          for (uword i = 0; i < uword(MR); ++i) a[p * MR + i] = i < mr ? P.A[i0 + i + p * P.lda] : T(0);
      }
      packed = s;
    }
    if (j0 == 0) strip(i0, mr, static_cast<const T*>(a));
    T* c = P.C + i0 + j0 * M;
    const T* c0 = P.bias ? P.bias + i0 : nullptr;
    if (mr == MR && nr == NR) tile_full<T, MR, NR>(K, a, P.B + j0 * P.ldb, P.ldb, c, M, c0, 0);
    else tile_edge<T, MR, NR>(mr, nr, K, a, P.B + j0 * P.ldb, P.ldb, c, M, c0, 0);
    epilogue(i0, j0, mr, nr);
  }
}

constexpr auto kNoEpilogue = [](uword, uword, uword, uword) {};
constexpr auto kNoStrip = [](uword, uword, const auto*) {};

template <class T> class OpenmpBackend final : public Backend<T> {
 public:
  explicit OpenmpBackend(int threads) : nt_(threads) {}
  BackendKind kind() const override { return BackendKind::openmp; }

  // Z = b + W Ain, A = g(Z) fused into each tile of the product (softmax, which needs whole
  // columns, in a second loop).  One parallel region for all layers: each layer's `omp for`
  // ends at a barrier, after which the next layer reads A.
  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    const uword m = X.n_cols;
    c.resize(net, m);
    uword fmas = 0, maxK = 0;
    for (const auto& Ly : net.layers) {
      fmas += Ly.W.n_rows * Ly.W.n_cols * m;
      maxK = std::max(maxK, Ly.W.n_cols);
    }
    reserve_pack(maxK);
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
    for (std::size_t l = 0; l < net.depth(); ++l) {
      const auto& Ly = net.layers[l];
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      auto& Z = c.Z[l];
      auto& A = c.A[l];
      const uword n = Ly.W.n_rows, k = Ly.W.n_cols;
      const bool softmax = Ly.act == Activation::softmax;
      gemm_tiles<T>({n, m, k, Ly.W.memptr(), n, false, Ain.memptr(), k, Z.memptr(), Ly.b.memptr()}, pack_,
                    [&](uword i0, uword j0, uword mr, uword nr) {
                      if (softmax) return;
                      for (uword j = j0; j < j0 + nr; ++j) activate_col(Ly.act, Z.colptr(j) + i0, A.colptr(j) + i0, mr);
                    }, kNoStrip);
      if (softmax) {
#pragma omp for schedule(static)
        for (uword t = 0; t < m; ++t) activate_col(Ly.act, Z.colptr(t), A.colptr(t), n);
      }
    }
  }

  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    const auto& Z = c.Z.back();
    const auto& A = c.A.back();
    const uword n = A.n_rows, m = A.n_cols;
    c.loss_col.set_size(m);
#pragma omp parallel for schedule(static) num_threads(nt_) if(n * m >= kMinParallelWork)
    for (uword t = 0; t < m; ++t)
      c.loss_col[t] = lossfn::value(net.loss, Z.colptr(t), A.colptr(t), Y.colptr(t), n);
    T J = 0;
    for (uword t = 0; t < m; ++t) J += c.loss_col[t];  // serial: fixed order
    return J / T(m) + regularization(net);
  }

 protected:
  void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, T scale) override {
    const std::size_t L = net.depth();
    const auto& A = c.A[L - 1];
    const uword n = A.n_rows, m = A.n_cols;
    const bool fused = fused_with_activation(net.loss);
    auto& G = fused ? c.dZ[L - 1] : c.dA[L - 1];
#pragma omp parallel for schedule(static) num_threads(nt_) if(n * m >= kMinParallelWork)
    for (uword t = 0; t < m; ++t) {
      lossfn::gradient(net.loss, A.colptr(t), Y.colptr(t), G.colptr(t), n, scale);
      if (!fused) act_backward_col(net.layers[L - 1].act, c.Z[L - 1].colptr(t), A.colptr(t),
                                   G.colptr(t), c.dZ[L - 1].colptr(t), n);
    }
  }

  void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c) override {
    const std::size_t L = net.depth();
    const uword n = dA_L.n_rows, m = dA_L.n_cols;
#pragma omp parallel for schedule(static) num_threads(nt_) if(n * m >= kMinParallelWork)
    for (uword t = 0; t < m; ++t)
      act_backward_col(net.layers[L - 1].act, c.Z[L - 1].colptr(t), c.A[L - 1].colptr(t),
                       dA_L.colptr(t), c.dZ[L - 1].colptr(t), n);
  }

  void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    backprop_shards(net, X, c, X.n_cols, &g, 1, want_dX ? &g.dX : nullptr);
  }

 public:
  void sharded_backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, const arma::Mat<T>* dA_L,
                        Cache<T>& c, std::size_t shard, T scale, std::vector<Grads<T>>& leaves,
                        arma::Mat<T>* dX) override {
    if (dA_L) output_backward(net, *dA_L, c);
    else loss_backward(net, Y, c, scale);
    const std::size_t m = X.n_cols, S = shard ? (m + shard - 1) / shard : 0;
    leaves.resize(S);
    backprop_shards(net, X, c, shard, leaves.data(), S, dX);
  }

 private:
  // The backward pass with the weight gradients summed per shard: g[s] over columns
  // [s*shard, min((s+1)*shard, m)), s < S (S = 1, shard = m: the whole batch).  dA, dZ and dX
  // are per column and computed for all columns at once.  One parallel region; per layer:
  //   Ain' (copied, so that the product reads B down contiguous columns)
  //   dW = dZ Ain' per shard, with db(i) = sum over the shard's samples of dZ(i, t) taken
  //        from the packed strip of dZ (same order, t ascending, as a separate loop)
  //   dAin = W' dZ, with dZin = dAin o g'(Zin) fused into each tile (softmax: a second loop)
  void backprop_shards(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, std::size_t shard, Grads<T>* g,
                       std::size_t S, arma::Mat<T>* dX) {
    const std::size_t L = net.depth();
    const uword m = X.n_cols;
    uword fmas = 0, maxK = std::min<uword>(shard, m), maxT = 0;
    for (std::size_t l = 0; l < L; ++l) {
      const uword n = net.layers[l].W.n_rows, k = net.layers[l].W.n_cols;
      for (std::size_t s = 0; s < S; ++s) {
        g[s].dW.resize(L);
        g[s].db.resize(L);
        g[s].dW[l].set_size(n, k);
        g[s].db[l].set_size(n);
      }
      maxT = std::max(maxT, m * k);
      fmas += 2 * n * k * m;
      maxK = std::max(maxK, n);
    }
    for (std::size_t l = 1; l < L; ++l) c.dA[l - 1].set_size(net.layers[l].W.n_cols, m);
    if (dX) dX->set_size(X.n_rows, m);
    reserve_pack(maxK);
    AinT_.set_size(maxT);  // one layer's Ain' at a time (the products end at a barrier)
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
    for (std::size_t l = L; l-- > 0;) {
      const auto& W = net.layers[l].W;
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      const auto& dZ = c.dZ[l];
      const uword n = W.n_rows, k = W.n_cols;
      transpose(Ain, AinT_.memptr());
      for (std::size_t s = 0; s < S; ++s) {
        const uword c0 = s * shard, c1 = std::min<uword>(m, c0 + shard);
        T* db = g[s].db[l].memptr();
        gemm_tiles<T>({n, k, c1 - c0, dZ.colptr(c0), n, false, AinT_.memptr() + c0, m, g[s].dW[l].memptr()}, pack_,
                      kNoEpilogue, [&](uword i0, uword mr, const T* a) {
                        constexpr int MR = TileSize<T>::MR;
                        for (uword i = 0; i < mr; ++i) db[i0 + i] = T(0);
                        for (uword p = 0; p < c1 - c0; ++p) add(db + i0, a + p * MR, mr);
                      });
      }
      arma::Mat<T>* dAin = l > 0 ? &c.dA[l - 1] : dX;
      if (!dAin) continue;
      const Activation g_in = l > 0 ? net.layers[l - 1].act : Activation::identity;
      const bool fuse = l > 0 && g_in != Activation::softmax;
      gemm_tiles<T>({k, m, n, W.memptr(), n, true, dZ.memptr(), n, dAin->memptr()}, pack_,
                    [&](uword i0, uword j0, uword mr, uword nr) {
                      if (!fuse) return;
                      for (uword j = j0; j < j0 + nr; ++j)
                        act_backward_col(g_in, c.Z[l - 1].colptr(j) + i0, c.A[l - 1].colptr(j) + i0,
                                         dAin->colptr(j) + i0, c.dZ[l - 1].colptr(j) + i0, mr);
                    }, kNoStrip);
      if (l > 0 && !fuse) {
#pragma omp for schedule(static)
        for (uword t = 0; t < m; ++t)
          act_backward_col(g_in, c.Z[l - 1].colptr(t), c.A[l - 1].colptr(t), dAin->colptr(t), c.dZ[l - 1].colptr(t), k);
      }
    }
  }

  // One packing buffer per thread, each at least K * MR long (sized before a region: inside
  // one, nothing may allocate).
  void reserve_pack(uword K) {
    if (pack_.size() < std::size_t(nt_)) pack_.resize(std::size_t(nt_));
    for (auto& buf : pack_)
      if (buf.size() < K * TileSize<T>::MR) buf.resize(K * TileSize<T>::MR);
  }

  // out (In.n_cols x In.n_rows, column-major) = In', in 8 x 8 blocks so that both the reads and the writes stay
  // within a few cache lines (32 x 32 blocks thrashed L1 at power-of-two strides).  An
  // orphaned `omp for` over row blocks of In, like gemm_tiles.
  static void transpose(const arma::Mat<T>& In, T* out) {
    const uword r = In.n_rows, c = In.n_cols, B = 8, nb = (r + B - 1) / B;
    const T* in = In.memptr();
#pragma omp for schedule(static)
    for (uword ib = 0; ib < nb; ++ib)
      for (uword j0 = 0; j0 < c; j0 += B)
        for (uword j = j0; j < std::min(j0 + B, c); ++j)
          for (uword i = ib * B; i < std::min(ib * B + B, r); ++i) out[j + i * c] = in[i + j * r];
  }
  // y[0..n) += x[0..n)   (__restrict in a helper: GCC drops it inside an OpenMP region)
  static void add(T* __restrict y, const T* __restrict x, uword n) {
#pragma omp simd
    for (uword i = 0; i < n; ++i) y[i] += x[i];
  }
  static void activate_col(Activation g, const T* z, T* a, uword n) {
    if (g == Activation::softmax) return act::softmax_col(z, a, n);
    act::dispatch(g, [&](auto F) {
      for (uword i = 0; i < n; ++i) a[i] = decltype(F)::f(z[i]);
    });
  }
  static void act_backward_col(Activation g, const T* z, const T* a, const T* da, T* dz, uword n) {
    if (g == Activation::softmax) return act::softmax_col_backward(a, da, dz, n);
    act::dispatch(g, [&](auto F) {
      for (uword i = 0; i < n; ++i) dz[i] = da[i] * decltype(F)::df(z[i], a[i]);
    });
  }

  int nt_;
  arma::Col<T> AinT_;                     // Ain' of the layer being differentiated
  PackBuffers<T> pack_;                   // one packed A strip per thread
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_openmp_backend(int threads) {
  return std::make_unique<OpenmpBackend<T>>(threads);
}
template std::unique_ptr<Backend<float>> make_openmp_backend<float>(int);
template std::unique_ptr<Backend<double>> make_openmp_backend<double>(int);

}  // namespace nnlab
