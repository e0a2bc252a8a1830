// The openmp backend's product kernel (private to openmp.cpp): C = C0 + op(A) B in register
// tiles, with the layer's elementwise work fused into each finished tile.
//
// Tiling.  C is cut into tiles of MR x NR elements (MR = two 512-bit vectors of T: 16 doubles
// or 32 floats; one vector, 8 or 16, for a product of at most that many rows; NR = 8).  A
// tile's MR*NR sums stay in registers during the whole loop over the inner index p, which
// reads one MR-long piece of an A column and NR numbers of B per step: 2*MR*NR flops for
// MR + NR loads.  Tiles are numbered row strip by row strip, so a thread keeps its packed A
// strip in L2 while it walks along B.  The A strip is packed p-major (one contiguous stream
// per tile), reading A across when op(A) = A' (so W' is never formed), into 64-byte aligned
// buffers (a vector load from malloc's 16-byte alignment straddles two cache lines).
//
// Determinism.  Every element of C is one sum, C0(i,j) + A(i,0) B(0,j) + A(i,1) B(1,j) + ...,
// accumulated with std::fma in the order p = 0, 1, ..., K-1 by exactly one thread, whatever
// the tile it falls in (edge tiles run the same chains).  A sum over samples may be cut into
// chunks of G terms at fixed places (chunk > 0): the first chunk's chain goes straight into
// the sum, each later chunk's chain starts from 0 and is then added.  Nothing depends on the
// thread count.
//
// Letters: M, N, K for a product; MR x NR for a tile.
#pragma once
#include <armadillo>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>
#include <vector>
#if defined(NNLAB_HAVE_OPENMP)
#include <omp.h>
#endif

namespace nnlab::omp_kernel {

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
// malloc's 16-byte alignment a vector load straddles two lines.
template <class T> struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U> Aligned64(const Aligned64<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const Aligned64&) const = default;
};
template <class T> using PackBuffers = std::vector<std::vector<T, Aligned64<T>>>;

template <class T> struct TileSize {
  static constexpr int MR = 128 / sizeof(T);  // two 64-byte vectors: 16 doubles, 32 floats
  static constexpr int NR = 8;
  // A product of at most this many rows gets tiles of one vector (16 floats), not half
  // zero padding.
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

// y[0..n) += x[0..n)   (__restrict in a helper: GCC drops it inside an OpenMP region)
template <class T> void add(T* __restrict y, const T* __restrict x, uword n) {
#pragma omp simd
  for (uword i = 0; i < n; ++i) y[i] += x[i];
}
// out[i] = leaf(0)[i] + leaf(1)[i] + ... + leaf(S-1)[i], in that order, each thread over its own
// range of i (each element written once: no barrier); then, with theta, theta[i] -= lr out[i]
// on the same range (the in-pass SGD update).  update(theta, g, n, lr) is that update.
template <class T, class Leaf, class Update>
void sum_leaves(uword S, Leaf leaf, T* __restrict out, uword n, T* theta, T lr, Update update) {
  const auto [i0, i1] = my_chunks(n);
  std::copy(leaf(0) + i0, leaf(0) + i1, out + i0);
  for (uword s = 1; s < S; ++s) add(out + i0, leaf(s) + i0, i1 - i0);
  if (theta) update(theta + i0, out + i0, i1 - i0, lr);
}

// B = In' in NR-column panels (Product::panels), for dW = dZ In': panel q holds rows
// [q NR, q NR + NR) of In, p-major, out[q NR m + t NR + j] = In(q NR + j, t), zero past the
// last row.  Each thread its own panels, sample by sample; then a barrier, since every
// thread's tiles read every panel.
template <class T> void pack_panels(const arma::Mat<T>& In, T* __restrict out) {
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

// One packing buffer per thread, each at least K * MR long: sized before a parallel region
// (inside one, nothing may allocate).
template <class T> void reserve_pack(PackBuffers<T>& pack, std::size_t threads, uword K) {
  if (pack.size() < threads) pack.resize(threads);
  for (auto& buf : pack)
    if (buf.size() < K * TileSize<T>::MR) buf.resize(K * TileSize<T>::MR);
}

}  // namespace nnlab::omp_kernel
