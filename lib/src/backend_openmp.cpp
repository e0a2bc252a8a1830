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
// (W' is never formed: the packing of the A-operand reads W across.  For dW, B = Ain' is read
// NR neighbouring numbers of a column of Ain per step: the tiles schedule below first copies
// Ain into NR-row panels, p-major, once per layer (pack_panels: each tile then reads one
// contiguous stream, through one pointer); the samples schedule reads Ain itself, which is as
// good for narrow layers and saves the copy.)
//
// Tiling.  C is cut into tiles of MR x NR elements (MR = two 512-bit vectors of T: 16 doubles
// or 32 floats; one vector, 8 or 16, for a product of at most that many rows; NR = 8).  A
// tile's MR*NR sums stay in registers during the whole loop over the inner index p, which
// reads one MR-long piece of an A column and NR numbers of B per step: 2*MR*NR flops for
// MR + NR loads.  Tiles are numbered row strip by row strip, so a thread
// keeps its A strip in L2 while it walks along B.  (NR = 8: 16 zmm sums, and half the A-strip
// bytes per fma that NR = 4 read from L2; steps 2-9% faster, session 14.)  (This file is compiled with
// -mprefer-vector-width=512, lib/CMakeLists.txt: otherwise GCC makes the `omp simd` loops
// 256-bit code on an AVX-512 machine, and a tile is 16 ymm sums at half the FMA rate.)
//
// Determinism.  Every element of Z and dAin is one sum, C(i,j) = C0(i,j) + A(i,0) B(0,j) +
// A(i,1) B(1,j) + ..., accumulated with std::fma in the order p = 0, 1, ..., K-1 by exactly
// one thread.  A weight gradient sums over samples, and its sum is cut at fixed places:
// dW = dW_0 + dW_1 + ... + dW_{S-1}, added in that order, where dW_s is the fma chain over the
// samples of chunk s = [s*G, (s+1)*G), G = kChunk (db the same way).  Neither the tiles nor
// the chunks depend on the thread count, so the result is bit-for-bit the same for 1, 2, 3 or
// 8 threads.  (It differs from the naive backend in the last bits: one rounding per fused
// multiply-add instead of two, and the chunked sums.)  Per-sample losses are summed serially.
//
// Two schedules compute these same sums (same bits, tested), chosen from the shapes alone:
//   tiles    one parallel region per pass (forward, backward), one `omp for` over the tiles
//            of each product, so a barrier after each product.  For wide layers: every
//            product has work for every thread.
//   samples  each thread carries its own chunks of samples through all the layers, forward
//            and backward (loss gradient included), with no barrier between layers, and keeps
//            one dW_s per chunk; at the end the threads add the chunks' gradients (one
//            barrier).  For narrow layers, where a product is a few microseconds and what the
//            tiles schedule pays per product (a barrier, the cache lines of Z or dA that the
//            next product reads from the other core) is as much as the halved loop saves.
//            Costs S copies of the gradients (S = m / G), so it is only taken when those are
//            small (by_samples() below).
//
// Letters: n = neurons of the layer, k = its inputs, m = samples; M, N, K for a product.
#include "nnlab/backend.hpp"
#include "nnlab/error.hpp"
#include "nnlab/optim.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <cmath>
#include <vector>
#if defined(NNLAB_HAVE_OPENMP)
#include <omp.h>
#endif

namespace nnlab {
namespace {

using arma::uword;

// acc(0:MR, 0:NR) += A(0:MR, p0:p1) B(p0:p1, 0:NR), one fma per term in the order p0, p0+1, ...
// a: the strip of A packed p-major (a[p*MR + i] = A(i, p)); b: B(p, j) = b[p + j*ldb], or with
// TB (B stored transposed) b[j + p*ldb].
template <class T, int MR, int NR, bool TB>
inline void fma_chain(T (&acc)[NR][MR], uword p0, uword p1, const T* __restrict a, const T* __restrict b,
                      uword ldb) {
  // Column-major B: two pointers, 4 columns apart, and offsets 0, ldb, 2 ldb, 3 ldb (address
  // arithmetic x86 does in the load; 8 hoisted column offsets spilled to the stack).
  const uword l1 = ldb, l2 = 2 * ldb, l3 = 3 * ldb, l4 = 4 * ldb;
  for (uword p = p0; p < p1; ++p) {
    const T* ap = a + p * MR;
    const T* b0 = b + p;
    const T* b4 = NR > 4 ? b0 + l4 : b0;  // (formed only where B has those columns)
    for (int j = 0; j < NR; ++j) {
      const uword off[4] = {0, l1, l2, l3};
      const T* bj = j < 4 ? b0 : b4;  // (a named pointer: GCC 12's -fsanitize=undefined
                                      // miscompiled `(j < 4 ? b0 : b4)[...]`)
      const T bpj = TB ? b[j + p * ldb] : bj[off[j % 4]];
#pragma omp simd
      for (int i = 0; i < MR; ++i) acc[j][i] = std::fma(ap[i], bpj, acc[j][i]);
    }
  }
}

// C(0:MR, 0:NR) = C0 + A(0:MR, 0:K) B(0:K, 0:NR), one tile.  The sums start from
// C0(i, j) = c0[i + j*ldc0] (ldc0 = 0: one column for all, the bias) or from 0 (c0 = nullptr).
// G > 0 cuts the sum over p into chunks of G terms: the first chunk's chain goes straight into
// the sum, each later chunk's chain starts from 0 and is then added (the chunked sums of the
// weight gradients; G = 0: one chain).  Compile-time sizes: the MR*NR sums stay in registers
// for the whole loop over p.
template <class T, int MR, int NR, bool TB>
inline void tile_full(uword K, uword G, const T* __restrict a, const T* __restrict b, uword ldb, T* C,
                      uword ldc, const T* c0, uword ldc0) {
  T acc[NR][MR];
  for (int j = 0; j < NR; ++j)
#pragma omp simd
    for (int i = 0; i < MR; ++i) acc[j][i] = c0 ? c0[i + j * ldc0] : T(0);
  const uword K0 = G ? std::min(K, G) : K;
  fma_chain<T, MR, NR, TB>(acc, 0, K0, a, b, ldb);
  for (uword p0 = K0; p0 < K; p0 += G) {
    T part[NR][MR] = {};
    fma_chain<T, MR, NR, TB>(part, p0, std::min(K, p0 + G), a, b, ldb);
    for (int j = 0; j < NR; ++j)
#pragma omp simd
      for (int i = 0; i < MR; ++i) acc[j][i] += part[j][i];
  }
  for (int j = 0; j < NR; ++j)
#pragma omp simd
    for (int i = 0; i < MR; ++i) C[i + j * ldc] = acc[j][i];
}

// An edge tile of mr x nr (mr <= MR, nr <= NR) through the same register kernel: its rows of C
// go through a local MR x NR tile (the packed strip is zero-padded below mr), its columns NR/2
// at a time, then one at a time, when nr < NR (B has no columns past nr; a single column is
// MR/8 chains, latency-bound).  Each element gets the same fma chain as in tile_full, so the
// bits do not depend on where the tile boundaries fall.
template <class T, int MR, int NR, bool TB>
inline void tile_edge(uword mr, uword nr, uword K, uword G, const T* a, const T* b, uword ldb, T* C, uword ldc,
                      const T* c0, uword ldc0) {
  alignas(64) T Ct[MR * NR];
  for (uword j = 0; j < nr; ++j)
    for (uword i = 0; i < uword(MR); ++i) Ct[i + j * MR] = c0 && i < mr ? c0[i + j * ldc0] : T(0);
  if (nr == NR) {
    tile_full<T, MR, NR, TB>(K, G, a, b, ldb, Ct, MR, Ct, MR);
  } else {
    constexpr int NH = NR / 2;
    uword j = 0;
    if constexpr (NH > 1)
      for (; j + NH <= nr; j += NH)
        tile_full<T, MR, NH, TB>(K, G, a, b + (TB ? j : j * ldb), ldb, Ct + j * MR, MR, Ct + j * MR, MR);
    for (; j < nr; ++j)
      tile_full<T, MR, 1, TB>(K, G, a, b + (TB ? j : j * ldb), ldb, Ct + j * MR, MR, Ct + j * MR, MR);
  }
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
constexpr uword kMinParallelWork = 16384;    // elements of an elementwise loop
constexpr uword kMinParallelFmas = 1 << 17;  // fused multiply-adds of a pass (~10 us)
// G: samples per chunk of a weight gradient's sum (Determinism, above).  Fewer, longer chunks
// mean fewer partial gradients for the threads to add (measured: 64 did better than 32 on the
// 16- and 32-wide networks); the mpi backend's shards (32) are then single chains.
constexpr uword kChunk = 64;
// The samples schedule keeps S = ceil(m / G) copies of the gradients: taken (automatic) only
// when all of them hold at most this many numbers (2 MB of doubles) and the batch has at
// least two chunks: up to the 128-wide layers at batch 256, where it scaled as well as or
// better than tiles (2 vs 1 thread, interleaved runs: 16-wide 1.6x against 1.2x, 32-wide
// 1.8x against 1.2x, 64-wide 1.7-1.97x against 1.3-1.5x, 128-wide 1.94x against 1.87x).
constexpr uword kMaxChunkCopies = 1 << 18;

template <class T> struct TileSize {
  static constexpr int MR = 128 / sizeof(T);  // two 64-byte vectors: 16 doubles, 32 floats
  static constexpr int NR = 8;
  // A product of at most this many rows gets tiles of one vector (16 floats): a 16-wide
  // layer in float would otherwise be half zero padding (it ran slower than in double).
  static constexpr int MR_narrow = 64 / sizeof(T);
};

// One product C (M x N, ldc = M) = C0 + op(A) B, B (K x N, ldb) column-major; op(A) = A
// (M x K, lda) or, with transA, the transpose of the K x M matrix A (lda = K): the packing
// reads either, so W' is never formed.  C0: bias (broadcast over columns) or nothing (0).
// chunk: G of tile_full (0: one chain over p; kChunk for the sums over samples).
template <class T> struct Product {
  uword M, N, K;
  const T* A;
  uword lda;
  bool transA;
  const T* B;
  uword ldb;
  T* C;
  const T* bias = nullptr;
  uword chunk = 0;
  bool transB = false;  // B given as its transpose (N x K, ldb): B(p, j) = B[j + p*ldb]
  bool panels = false;  // B in NR-column panels, p-major: B(p, j) = B[(j/NR)*NR*K + p*NR + j%NR]
};

template <class T, int MR> uword tile_count(const Product<T>& P) {
  constexpr int NR = TileSize<T>::NR;
  return ((P.M + MR - 1) / MR) * ((P.N + NR - 1) / NR);
}

// Tile t of a product (tiles numbered row strip by row strip, so a thread keeps its A strip
// in L2 while it walks along B).  The MR-row strip of op(A) is packed into a (p-major, so the
// tile reads one contiguous stream) unless `packed` says it is there already.  After the tile
// is written, epilogue(i0, j0, mr, nr) runs on it (the activation, or g' in the backward pass,
// fused into the product: no second pass over C); strip(i0, mr, a, MR) runs once per strip,
// with its first tile, on the packed strip (db's row sums).  MR: the tile's rows (TileSize).
template <class T, int MR, class Epilogue, class Strip>
inline void product_tile(const Product<T>& P, uword t, T* a, uword& packed, Epilogue& epilogue, Strip& strip) {
  constexpr int NR = TileSize<T>::NR;
  const uword blocks = (P.N + NR - 1) / NR, K = P.K;
  const uword s = t / blocks, i0 = s * MR, j0 = (t % blocks) * NR;
  const uword mr = std::min<uword>(MR, P.M - i0), nr = std::min<uword>(NR, P.N - j0);
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
  if (j0 == 0) strip(i0, mr, static_cast<const T*>(a), uword(MR));
  T* c = P.C + i0 + j0 * P.M;
  const T* c0 = P.bias ? P.bias + i0 : nullptr;
  if (P.transB || P.panels) {  // one pointer, NR neighbouring numbers per step
    const T* b = P.panels ? P.B + j0 * K : P.B + j0;
    const uword ldb = P.panels ? uword(NR) : P.ldb;
    if (mr == MR && nr == NR) tile_full<T, MR, NR, true>(K, P.chunk, a, b, ldb, c, P.M, c0, 0);
    else tile_edge<T, MR, NR, true>(mr, nr, K, P.chunk, a, b, ldb, c, P.M, c0, 0);
  } else {
    const T* b = P.B + j0 * P.ldb;
    if (mr == MR && nr == NR) tile_full<T, MR, NR, false>(K, P.chunk, a, b, P.ldb, c, P.M, c0, 0);
    else tile_edge<T, MR, NR, false>(mr, nr, K, P.chunk, a, b, P.ldb, c, P.M, c0, 0);
  }
  epilogue(i0, j0, mr, nr);
}

// The calling thread's number in its team, and the team's size (0 and 1 outside a region).
inline uword thread_num() {
#if defined(NNLAB_HAVE_OPENMP)
  return uword(omp_get_thread_num());
#else
  return 0;
#endif
}
inline uword team_size() {
#if defined(NNLAB_HAVE_OPENMP)
  return uword(omp_get_num_threads());
#else
  return 1;
#endif
}
// The tiles of one product, shared among the threads of the enclosing parallel region (an
// orphaned `omp for`: called outside a region, the calling thread does them all).  pack: one
// buffer per thread, at least K * MR long.  Each element is the same fma chain whatever the
// tile size, so the narrow tiles change no bits.
template <class T, int MR, class Epilogue, class Strip>
void gemm_tiles_mr(const Product<T>& P, PackBuffers<T>& pack, Epilogue& epilogue, Strip& strip) {
  T* a = pack[thread_num()].data();
  uword packed = ~uword(0);  // no strip packed yet
  const uword tiles = tile_count<T, MR>(P);
#pragma omp for schedule(static)
  for (uword t = 0; t < tiles; ++t) product_tile<T, MR>(P, t, a, packed, epilogue, strip);
}
template <class T, class Epilogue, class Strip>
void gemm_tiles(const Product<T>& P, PackBuffers<T>& pack, Epilogue&& epilogue, Strip&& strip) {
  if (P.M <= uword(TileSize<T>::MR_narrow)) gemm_tiles_mr<T, TileSize<T>::MR_narrow>(P, pack, epilogue, strip);
  else gemm_tiles_mr<T, TileSize<T>::MR>(P, pack, epilogue, strip);
}
// All the tiles of one product on the calling thread (the samples schedule: no worksharing).
template <class T, int MR, class Epilogue, class Strip>
void gemm_serial_mr(const Product<T>& P, T* a, Epilogue& epilogue, Strip& strip) {
  uword packed = ~uword(0);
  const uword tiles = tile_count<T, MR>(P);
  for (uword t = 0; t < tiles; ++t) product_tile<T, MR>(P, t, a, packed, epilogue, strip);
}
template <class T, class Epilogue, class Strip>
void gemm_serial(const Product<T>& P, T* a, Epilogue&& epilogue, Strip&& strip) {
  if (P.M <= uword(TileSize<T>::MR_narrow)) gemm_serial_mr<T, TileSize<T>::MR_narrow>(P, a, epilogue, strip);
  else gemm_serial_mr<T, TileSize<T>::MR>(P, a, epilogue, strip);
}

// db[0:mr] = the row sums of a packed strip (K columns of MR rows), cut into chunks of G like
// tile_full's sums: the first chunk summed from 0 straight into the result, each later one
// from 0 and then added.
template <class T, int MR> void strip_row_sums(T* __restrict db, const T* __restrict a, uword K, uword G, uword mr) {
  T acc[MR] = {};
  const uword K0 = G ? std::min(K, G) : K;
  for (uword p = 0; p < K0; ++p)
#pragma omp simd
    for (int i = 0; i < MR; ++i) acc[i] += a[p * MR + i];
  for (uword p0 = K0; p0 < K; p0 += G) {
    T part[MR] = {};
    for (uword p = p0; p < std::min(K, p0 + G); ++p)
#pragma omp simd
      for (int i = 0; i < MR; ++i) part[i] += a[p * MR + i];
#pragma omp simd
    for (int i = 0; i < MR; ++i) acc[i] += part[i];
  }
  for (uword i = 0; i < mr; ++i) db[i] = acc[i];
}
template <class T> void strip_row_sums(T* __restrict db, const T* __restrict a, uword K, uword G, uword mr, uword MR) {
  if (MR == uword(TileSize<T>::MR_narrow)) return strip_row_sums<T, TileSize<T>::MR_narrow>(db, a, K, G, mr);
  strip_row_sums<T, TileSize<T>::MR>(db, a, K, G, mr);
}

constexpr auto kNoEpilogue = [](uword, uword, uword, uword) {};
constexpr auto kNoStrip = [](uword, uword, const auto*, uword) {};

// This thread's share of S chunks (or elements), [s0, s1), contiguous: thread t of T has
// [t S / T, (t + 1) S / T).
struct ChunkRange { uword s0, s1; };
inline ChunkRange my_chunks(uword S) {
  const uword t = thread_num(), T = team_size();
  return {t * S / T, (t + 1) * S / T};
}

template <class T> class OpenmpBackend final : public Backend<T> {
  // sgd_step: the network to update in place (the one being differentiated) and the step.
  struct Update {
    Network<T>* net = nullptr;
    T lr = 0;
  };

 public:
  OpenmpBackend(int threads, OpenmpSchedule sched) : nt_(threads), sched_(sched) {}
  BackendKind kind() const override { return BackendKind::openmp; }

  // Z = b + W Ain, A = g(Z) fused into each tile of the product (softmax, which needs whole
  // columns, in a second loop).  tiles: one parallel region for all layers, each layer's
  // `omp for` ending at a barrier after which the next layer reads A.  samples: each thread
  // takes its own columns through all the layers (no sum over samples: the same bits).
  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    const uword m = X.n_cols;
    [[maybe_unused]] const uword fmas = size_forward(net, m, c);
    if (by_samples(net, m)) {
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
      {
        const auto [s0, s1] = my_chunks(chunks(m));
        const uword c0 = s0 * kChunk, c1 = std::min(m, s1 * kChunk);
        for (std::size_t l = 0; l < net.depth() && c1 > c0; ++l) forward_layer(net, l, X, c, c0, c1, my_pack());
      }
      return;
    }
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
                      if (!softmax) activate_block(Ly.act, Z.memptr(), A.memptr(), n, i0, j0, mr, nr);
                    }, kNoStrip);
      if (softmax) {
#pragma omp for schedule(static)
        for (uword t = 0; t < m; ++t) activate_col(Ly.act, Z.colptr(t), A.colptr(t), n);
      }
    }
  }

  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    [[maybe_unused]] const uword n = c.A.back().n_rows;
    const uword m = c.A.back().n_cols;
    c.loss_col.set_size(m);
#pragma omp parallel for schedule(static) num_threads(nt_) if(n * m >= kMinParallelWork)
    for (uword t = 0; t < m; ++t) loss_values(net, Y, c, t, t + 1);
    return sum_losses(net, c);
  }

  // samples: forward, the losses, the loss gradient and backward of each thread's chunks in
  // one parallel region (the three calls cost three fork/joins, and the cost's region alone
  // took longer than its loop on narrow networks); the same sums, so the same bits.
  T value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                   bool want_dX) override {
    if (!by_samples(net, X.n_cols)) return Backend<T>::value_and_grad(net, X, Y, c, g, want_dX);
    const T J = step_samples(net, X, Y, c, g, want_dX, {});
    add_regularization_grad(net, g);
    return J;
  }

  // The SGD update inside the backward pass's parallel region (a network without l1/l2 terms;
  // otherwise value_and_grad + optim::Sgd): tiles, after each layer's dW (and after dAin =
  // W' dZ, which needs the old W) the threads update W, each a contiguous range, and each
  // strip of db its part of b; samples, each thread updates the range of parameters it has
  // just summed over the chunks.
  // The same sgd_update as optim::Sgd, element by element: the same bits, dW and db filled
  // as by value_and_grad.  Saves the serial pass over W and dW after the parallel region
  // (784-256-128-10 on 2 threads: ~0.12 ms of a 1.4 ms step at batch 64).
  T sgd_step(Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g, T lr,
             bool want_dX) override {
    if (net.l1 != 0 || net.l2 != 0) return Backend<T>::sgd_step(net, X, Y, c, g, lr, want_dX);
    const uword m = X.n_cols;
    const Update up{&net, lr};
    if (by_samples(net, m)) return step_samples(net, X, Y, c, g, want_dX, up);
    forward(net, X, c);
    const T J = cost(net, Y, c);
    loss_backward(net, Y, c, T(1) / T(m));
    backprop_tiles(net, X, c, g, want_dX ? &g.dX : nullptr, up);
    return J;
  }

 protected:
  void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, T scale) override {
    const uword n = c.A.back().n_rows, m = c.A.back().n_cols;
    if (n * m < kMinParallelWork) return loss_columns(net, Y, c, scale, 0, m);
#pragma omp parallel num_threads(nt_)
    {
      const auto [t0, t1] = my_chunks(m);
      loss_columns(net, Y, c, scale, t0, t1);
    }
  }

  void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c) override {
    const std::size_t L = net.depth();
    const uword n = dA_L.n_rows, m = dA_L.n_cols;
    const Activation g = net.layers[L - 1].act;
    if (g != Activation::softmax && n * m < kMinParallelWork)  // one call over all (contiguous)
      return act_backward_block(g, c.Z[L - 1].memptr(), c.A[L - 1].memptr(), dA_L.memptr(), c.dZ[L - 1].memptr(),
                                n, 0, 0, n, m);
#pragma omp parallel for schedule(static) num_threads(nt_) if(n * m >= kMinParallelWork)
    for (uword t = 0; t < m; ++t)
      act_backward_col(g, c.Z[L - 1].colptr(t), c.A[L - 1].colptr(t), dA_L.colptr(t), c.dZ[L - 1].colptr(t), n);
  }

  // samples: the loss gradient of each thread's columns is computed in the backward region
  // (on one thread before it, the other threads would first fetch their columns of dZ[L]
  // from its cache).
  void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    if (!by_samples(net, X.n_cols)) return Backend<T>::backward(net, X, Y, c, g, want_dX);
    backprop_samples(net, X, c, kChunk, leaves_, &g, want_dX ? &g.dX : nullptr, &Y, T(1) / T(X.n_cols));
    add_regularization_grad(net, g);
  }

  void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    const uword m = X.n_cols;
    if (by_samples(net, m)) backprop_samples(net, X, c, kChunk, leaves_, &g, want_dX ? &g.dX : nullptr);
    else backprop_tiles(net, X, c, g, want_dX ? &g.dX : nullptr);
  }

 public:
  // The mpi backend's per-shard gradients: the samples schedule with shards for chunks.
  void sharded_backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, const arma::Mat<T>* dA_L,
                        Cache<T>& c, std::size_t shard, T scale, std::vector<Grads<T>>& leaves,
                        arma::Mat<T>* dX) override {
    if (dA_L) output_backward(net, *dA_L, c);
    else loss_backward(net, Y, c, scale);
    backprop_samples(net, X, c, shard ? uword(shard) : uword(X.n_cols), leaves, nullptr, dX);
  }

 private:
  uword chunks(uword m) const { return (m + kChunk - 1) / kChunk; }
  // samples: forward, losses, loss gradient, backward (and with up the SGD update) in one
  // parallel region; returns J without the regularisation's gradient added to g.
  T step_samples(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                 bool want_dX, Update up) {
    const uword m = X.n_cols;
    const uword fmas = size_forward(net, m, c);
    c.loss_col.set_size(m);
    backprop_samples(net, X, c, kChunk, leaves_, &g, want_dX ? &g.dX : nullptr, &Y, T(1) / T(m), fmas, up);
    return sum_losses(net, c);
  }
  // Sizes the cache and the packing buffers for forward(); returns its fused multiply-adds.
  uword size_forward(const Network<T>& net, uword m, Cache<T>& c) {
    c.resize(net, m);
    uword fmas = 0, maxK = 0;
    for (const auto& Ly : net.layers) {
      fmas += Ly.W.n_rows * Ly.W.n_cols * m;
      maxK = std::max(maxK, Ly.W.n_cols);
    }
    reserve_pack(maxK);
    return fmas;
  }
  // c.loss_col[t] for the columns [t0, t1) of the output layer, by the calling thread.
  static void loss_values(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, uword t0, uword t1) {
    const auto& Z = c.Z.back();
    const auto& A = c.A.back();
    for (uword t = t0; t < t1; ++t) c.loss_col[t] = lossfn::value(net.loss, Z.colptr(t), A.colptr(t), Y.colptr(t), A.n_rows);
  }
  // J = the per-sample losses summed serially (a fixed order), / m, + the regularisation.
  static T sum_losses(const Network<T>& net, const Cache<T>& c) {
    T J = 0;
    for (uword t = 0; t < c.loss_col.n_elem; ++t) J += c.loss_col[t];
    return J / T(c.loss_col.n_elem) + regularization(net);
  }
  bool by_samples(const Network<T>& net, uword m) const {
    if (sched_ != OpenmpSchedule::automatic) return sched_ == OpenmpSchedule::samples;
    uword P = 0;
    for (const auto& Ly : net.layers) P += Ly.W.n_elem + Ly.b.n_elem;
    return chunks(m) >= 2 && chunks(m) * P <= kMaxChunkCopies;
  }
  T* my_pack() { return pack_[thread_num()].data(); }

  // dZ[L] of columns [t0, t1) from the loss: its gradient with respect to A[L] (or, fused
  // with the output activation, to Z[L]: bce, ce), times scale, by the calling thread.
  void loss_columns(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, T scale, uword t0, uword t1) {
    const std::size_t L = net.depth();
    const auto& A = c.A[L - 1];
    const uword n = A.n_rows;
    const bool fused = fused_with_activation(net.loss);
    auto& G = fused ? c.dZ[L - 1] : c.dA[L - 1];
    for (uword t = t0; t < t1; ++t) lossfn::gradient(net.loss, A.colptr(t), Y.colptr(t), G.colptr(t), n, scale);
    if (fused) return;
    const Activation g = net.layers[L - 1].act;
    if (g != Activation::softmax)
      return act_backward_block(g, c.Z[L - 1].memptr(), A.memptr(), G.memptr(), c.dZ[L - 1].memptr(), n, 0, t0, n,
                                t1 - t0);
    for (uword t = t0; t < t1; ++t)
      act_backward_col(g, c.Z[L - 1].colptr(t), A.colptr(t), G.colptr(t), c.dZ[L - 1].colptr(t), n);
  }

  // Layer l of the forward pass on columns [c0, c1), by the calling thread.
  void forward_layer(const Network<T>& net, std::size_t l, const arma::Mat<T>& X, Cache<T>& c, uword c0, uword c1,
                     T* a) {
    const auto& Ly = net.layers[l];
    const auto& Ain = l == 0 ? X : c.A[l - 1];
    auto& Z = c.Z[l];
    auto& A = c.A[l];
    const uword n = Ly.W.n_rows, k = Ly.W.n_cols;
    gemm_serial<T>({n, c1 - c0, k, Ly.W.memptr(), n, false, Ain.colptr(c0), k, Z.colptr(c0), Ly.b.memptr()}, a,
                   [&](uword i0, uword j0, uword mr, uword nr) {
                     if (Ly.act != Activation::softmax) activate_block(Ly.act, Z.memptr(), A.memptr(), n, i0, c0 + j0, mr, nr);
                   }, kNoStrip);
    if (Ly.act == Activation::softmax)
      for (uword t = c0; t < c1; ++t) activate_col(Ly.act, Z.colptr(t), A.colptr(t), n);
  }

  // Sizes the gradients g[0..G) (dW, db of every layer; not when size_grads is false) and the
  // backward workspaces; returns the pass's fused multiply-adds.
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
    reserve_pack(maxK);
    return fmas;
  }

  // tiles: one parallel region; per layer
  //   Ain in NR-row panels (pack_panels: each tile of dW reads B = Ain' as one stream)
  //   dW = dZ Ain', in chunks of G samples, with db(i) = the same chunked sum of dZ(i, t)
  //        taken from the packed strip of dZ
  //   dAin = W' dZ, with dZin = dAin o g'(Zin) fused into each tile (softmax: a second loop)
  // With up (sgd_step) dAin comes first, then dW, after which the threads update W, each a
  // contiguous range, and each strip of db updates its rows of b.
  void backprop_tiles(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g, arma::Mat<T>* dX,
                      Update up = {}) {
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
      T* W1 = up.net ? up.net->layers[l].W.memptr() : nullptr;  // W, updated in place
      T* b1 = up.net ? up.net->layers[l].b.memptr() : nullptr;
      const auto weight_grad = [&] {
        pack_panels(Ain, panels_.memptr());
        gemm_tiles<T>({n, k, m, dZ.memptr(), n, false, panels_.memptr(), NR, dW, nullptr, kChunk,
                       /*transB=*/false, /*panels=*/true}, pack_, kNoEpilogue,
                      [&](uword i0, uword mr, const T* a, uword MR) {
                        strip_row_sums(db + i0, a, m, kChunk, mr, MR);
                        if (b1) optim::sgd_update(b1 + i0, db + i0, mr, up.lr);
                      });
        if (!W1) return;
        // After the product's barrier, each thread a contiguous range of W: a stream the
        // prefetchers follow (a tile's MR x NR block of W, updated in the product's epilogue,
        // is NR pieces 8n bytes apart: that cost as much on 2 threads as on 1).  Nothing reads
        // W[l] again in this step.
        const auto [e0, e1] = my_chunks(n * k);
        optim::sgd_update(W1 + e0, dW + e0, e1 - e0, up.lr);
      };
      if (!up.net) weight_grad();
      arma::Mat<T>* dAin = l > 0 ? &c.dA[l - 1] : dX;
      if (dAin) {
        const Activation g_in = l > 0 ? net.layers[l - 1].act : Activation::identity;
        const bool fuse = l > 0 && g_in != Activation::softmax;
        gemm_tiles<T>({k, m, n, W.memptr(), n, true, dZ.memptr(), n, dAin->memptr()}, pack_,
                      [&](uword i0, uword j0, uword mr, uword nr) {
                        if (fuse)
                          act_backward_block(g_in, c.Z[l - 1].memptr(), c.A[l - 1].memptr(), dAin->memptr(),
                                             c.dZ[l - 1].memptr(), k, i0, j0, mr, nr);
                      }, kNoStrip);
        if (l > 0 && !fuse) {
#pragma omp for schedule(static)
          for (uword t = 0; t < m; ++t)
            act_backward_col(g_in, c.Z[l - 1].colptr(t), c.A[l - 1].colptr(t), dAin->colptr(t), c.dZ[l - 1].colptr(t), k);
        }
      }
      if (up.net) weight_grad();  // after dAin = W' dZ has read the old W (the products end at a barrier)
    }
  }

  // samples: the batch in S = ceil(m / shard) shards, leaves[s] = the gradients of shard s
  // (columns [s*shard, min((s+1)*shard, m)), each sum cut in chunks of G); each thread takes a
  // contiguous range of shards down through all the layers (Ain' of its columns, dW and db
  // of each of its shards, dAin = W' dZ and g' of its columns) with no barrier; then, if
  // total, one barrier and total = leaves[0] + leaves[1] + ... in that order, element by
  // element, shared among the threads.
  //
  // With forward_fmas > 0 (value_and_grad) the region starts with the forward pass of each
  // thread's columns and their losses (c.loss_col), forward_fmas counting toward the
  // parallel threshold.  With up (sgd_step; needs total) each thread then updates the
  // parameters whose totals it has just made.
  void backprop_samples(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, uword shard,
                        std::vector<Grads<T>>& leaves, Grads<T>* total, arma::Mat<T>* dX,
                        const arma::Mat<T>* Y = nullptr, T scale = 1, uword forward_fmas = 0, Update up = {}) {
    const std::size_t L = net.depth();
    const uword m = X.n_cols, S = (m + shard - 1) / shard;
    // The leaves are sized only when the shapes change: their headers share cache lines with
    // small gradients (Armadillo keeps up to 16 numbers inside the object) that the other
    // threads have just written, and touching them all on one thread cost ~10 us per step.
    bool resize = leaves_key_.size() != 3 + 2 * L;
    if (resize) leaves_key_.assign(3 + 2 * L, 0);  // allocates only when the depth changes
    const auto set = [&](std::size_t i, uword v) {
      resize = resize || leaves_key_[i] != v;
      leaves_key_[i] = v;
    };
    set(0, uword(reinterpret_cast<std::uintptr_t>(&leaves)));
    set(1, m);
    set(2, shard);
    for (std::size_t l = 0; l < L; ++l) {
      set(3 + 2 * l, net.layers[l].W.n_rows);
      set(4 + 2 * l, net.layers[l].W.n_cols);
    }
    if (resize) leaves.resize(S);
    [[maybe_unused]] const uword fmas =
        forward_fmas + size_backward(net, X, c, leaves.data(), S, dX, std::min(shard, m), resize);
    if (total) size_backward(net, X, c, total, 1, nullptr, 0);
#pragma omp parallel num_threads(nt_) if(fmas >= kMinParallelFmas)
    {
      const auto [s0, s1] = my_chunks(S);
      const uword c0 = s0 * shard, c1 = std::min(m, s1 * shard);
      T* a = my_pack();
      if (forward_fmas && c1 > c0) {
        for (std::size_t l = 0; l < L; ++l) forward_layer(net, l, X, c, c0, c1, a);
        loss_values(net, *Y, c, c0, c1);
      }
      if (Y) loss_columns(net, *Y, c, scale, c0, c1);  // dZ[L] of this thread's columns
      for (std::size_t l = L; l-- > 0 && c1 > c0;) {
        const auto& W = net.layers[l].W;
        const auto& Ain = l == 0 ? X : c.A[l - 1];
        const auto& dZ = c.dZ[l];
        const uword n = W.n_rows, k = W.n_cols;
        for (uword s = s0; s < s1; ++s) {
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
                         if (fuse)
                           act_backward_block(g_in, c.Z[l - 1].memptr(), c.A[l - 1].memptr(), dAin->memptr(),
                                              c.dZ[l - 1].memptr(), k, i0, c0 + j0, mr, nr);
                       }, kNoStrip);
        if (l > 0 && !fuse)
          for (uword t = c0; t < c1; ++t)
            act_backward_col(g_in, c.Z[l - 1].colptr(t), c.A[l - 1].colptr(t), dAin->colptr(t), c.dZ[l - 1].colptr(t), k);
      }
      if (total) {
#pragma omp barrier
        for (std::size_t l = 0; l < L; ++l) {
          sum_leaves(leaves, S, [l](Grads<T>& g) { return g.dW[l].memptr(); }, total->dW[l].memptr(), total->dW[l].n_elem,
                     up.net ? up.net->layers[l].W.memptr() : nullptr, up.lr);
          sum_leaves(leaves, S, [l](Grads<T>& g) { return g.db[l].memptr(); }, total->db[l].memptr(), total->db[l].n_elem,
                     up.net ? up.net->layers[l].b.memptr() : nullptr, up.lr);
        }
      }
    }
  }
  // out[i] = leaf(0)[i] + leaf(1)[i] + ... + leaf(S-1)[i], in that order, each thread over its
  // own range of i (no barrier: each element is written once and read after the region); then,
  // with theta, theta[i] -= lr out[i] on the same range.
  template <class Get>
  static void sum_leaves(std::vector<Grads<T>>& leaves, uword S, Get get, T* __restrict out, uword n,
                         T* theta = nullptr, T lr = 0) {
    const auto [i0, i1] = my_chunks(n);
    std::copy(get(leaves[0]) + i0, get(leaves[0]) + i1, out + i0);
    for (uword s = 1; s < S; ++s) add(out + i0, get(leaves[s]) + i0, i1 - i0);
    if (theta) optim::sgd_update(theta + i0, out + i0, i1 - i0, lr);
  }
  // y[0..n) += x[0..n)   (__restrict in a helper: GCC drops it inside an OpenMP region)
  static void add(T* __restrict y, const T* __restrict x, uword n) {
#pragma omp simd
    for (uword i = 0; i < n; ++i) y[i] += x[i];
  }

  // One packing buffer per thread, each at least K * MR long (sized before a region: inside
  // one, nothing may allocate).
  void reserve_pack(uword K) {
    if (pack_.size() < std::size_t(nt_)) pack_.resize(std::size_t(nt_));
    for (auto& buf : pack_)
      if (buf.size() < K * TileSize<T>::MR) buf.resize(K * TileSize<T>::MR);
  }

  // Ain' in NR-column panels (Product::panels) for the tiles schedule's dW = dZ Ain': panel q
  // holds rows [q NR, q NR + NR) of Ain, p-major, out[q NR m + t NR + j] = Ain(q NR + j, t),
  // zero past the last row.  Each thread its own panels, sample by sample: it reads its rows
  // of each column of Ain in order and writes NR numbers (64 bytes in double) of each panel
  // per sample; then a barrier, since every thread's dW tiles read every panel.
  static void pack_panels(const arma::Mat<T>& In, T* __restrict out) {
    constexpr uword NR = TileSize<T>::NR;
    const uword k = In.n_rows, m = In.n_cols, panels = (k + NR - 1) / NR;
    const auto [q0, q1] = my_chunks(panels);
    for (uword t = 0; t < m; ++t) {
      const T* in = In.colptr(t);
      for (uword q = q0; q < q1; ++q) {
        const uword j0 = q * NR, nr = std::min(NR, k - j0);
        T* o = out + j0 * m + t * NR;
        for (uword j = 0; j < NR; ++j) o[j] = j < nr ? in[j0 + j] : T(0);
      }
    }
#pragma omp barrier
  }
  // g, or dZ = dA o g', on rows [i0, i0+mr) x columns [j0, j0+nr) of M-row matrices (not
  // softmax): one call when the block is whole columns, hence contiguous (narrow layers).
  static void activate_block(Activation g, const T* Z, T* A, uword M, uword i0, uword j0, uword mr, uword nr) {
    if (mr == M) return activate_col(g, Z + j0 * M, A + j0 * M, M * nr);
    for (uword j = j0; j < j0 + nr; ++j) activate_col(g, Z + i0 + j * M, A + i0 + j * M, mr);
  }
  static void act_backward_block(Activation g, const T* Z, const T* A, const T* dA, T* dZ, uword M, uword i0,
                                 uword j0, uword mr, uword nr) {
    if (mr == M) return act_backward_col(g, Z + j0 * M, A + j0 * M, dA + j0 * M, dZ + j0 * M, M * nr);
    for (uword j = j0; j < j0 + nr; ++j) {
      const uword o = i0 + j * M;
      act_backward_col(g, Z + o, A + o, dA + o, dZ + o, mr);
    }
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
  OpenmpSchedule sched_;
  arma::Col<T> panels_;            // tiles: Ain of the layer being differentiated, in NR-row
                                   // panels (pack_panels)
  PackBuffers<T> pack_;            // one packed A strip per thread
  std::vector<Grads<T>> leaves_;   // samples: the gradients of each chunk
  std::vector<uword> leaves_key_;  // the shapes the leaves were last sized for
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_openmp_backend(int threads, OpenmpSchedule schedule) {
  if (threads < 1) throw InputError("make_openmp_backend: threads must be >= 1, got " + std::to_string(threads));
  return std::make_unique<OpenmpBackend<T>>(threads, schedule);
}
template std::unique_ptr<Backend<float>> make_openmp_backend<float>(int, OpenmpSchedule);
template std::unique_ptr<Backend<double>> make_openmp_backend<double>(int, OpenmpSchedule);

}  // namespace nnlab
