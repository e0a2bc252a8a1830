// openmp backend: the naive loops, reordered for contiguous access and parallelised with
// OpenMP.  Determinism: every output element (Z(i,t), dW(i,j), db(i), dA(j,t), a sample's
// loss) is computed by exactly one thread, in the same order whatever the thread count, and
// the per-sample losses are summed serially afterwards.  So the result is bit-for-bit the
// same for 1, 2, 3 or 8 threads.  There are no BLAS calls here: OpenMP owns the cores.
//
// Letters: n = neurons of the layer, k = its inputs, m = samples.
#include "nnlab/backend.hpp"

#include <algorithm>

namespace nnlab {
namespace {

// y[0..n) += a x[0..n)     (a helper taking __restrict pointers: GCC drops __restrict
// inside an OpenMP region, which costs vectorisation)
template <class T> inline void axpy(T* __restrict y, const T* __restrict x, T a, arma::uword n) {
#pragma omp simd
  for (arma::uword i = 0; i < n; ++i) y[i] += a * x[i];
}
// sum_i x[i] y[i]
template <class T> inline T dot(const T* __restrict x, const T* __restrict y, arma::uword n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (arma::uword i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

template <class T> class OpenmpBackend final : public Backend<T> {
 public:
  explicit OpenmpBackend(int threads) : nt_(threads) {}
  BackendKind kind() const override { return BackendKind::openmp; }

  // Z(:,t) = b + sum_j W(:,j) Ain(j,t);  A(:,t) = g(Z(:,t))        parallel over t
  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    c.resize(net, X.n_cols);
    for (std::size_t l = 0; l < net.depth(); ++l) {
      const auto& Ly = net.layers[l];
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      auto& Z = c.Z[l];
      auto& A = c.A[l];
      const arma::uword n = Ly.W.n_rows, k = Ly.W.n_cols, m = Ain.n_cols;
#pragma omp parallel for schedule(static) num_threads(nt_)
      for (arma::uword t = 0; t < m; ++t) {
        T* z = Z.colptr(t);
        const T* a = Ain.colptr(t);
        std::copy(Ly.b.memptr(), Ly.b.memptr() + n, z);
        for (arma::uword j = 0; j < k; ++j) axpy(z, Ly.W.colptr(j), a[j], n);
        activate_col(Ly.act, z, A.colptr(t), n);
      }
    }
  }

  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    const auto& Z = c.Z.back();
    const auto& A = c.A.back();
    const arma::uword n = A.n_rows, m = A.n_cols;
    c.loss_col.set_size(m);
#pragma omp parallel for schedule(static) num_threads(nt_)
    for (arma::uword t = 0; t < m; ++t)
      c.loss_col[t] = lossfn::value(net.loss, Z.colptr(t), A.colptr(t), Y.colptr(t), n);
    T J = 0;
    for (arma::uword t = 0; t < m; ++t) J += c.loss_col[t];  // serial: fixed order
    return J / T(m) + regularization(net);
  }

 protected:
  void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    const std::size_t L = net.depth();
    const auto& A = c.A[L - 1];
    const arma::uword n = A.n_rows, m = A.n_cols;
    const bool fused = fused_with_activation(net.loss);
    auto& G = fused ? c.dZ[L - 1] : c.dA[L - 1];
#pragma omp parallel for schedule(static) num_threads(nt_)
    for (arma::uword t = 0; t < m; ++t) {
      lossfn::gradient(net.loss, A.colptr(t), Y.colptr(t), G.colptr(t), n, T(1) / T(m));
      if (!fused) act_backward_col(net.layers[L - 1].act, c.Z[L - 1].colptr(t), A.colptr(t),
                                   G.colptr(t), c.dZ[L - 1].colptr(t), n);
    }
  }

  void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c) override {
    const std::size_t L = net.depth();
    const arma::uword n = dA_L.n_rows, m = dA_L.n_cols;
#pragma omp parallel for schedule(static) num_threads(nt_)
    for (arma::uword t = 0; t < m; ++t)
      act_backward_col(net.layers[L - 1].act, c.Z[L - 1].colptr(t), c.A[L - 1].colptr(t),
                       dA_L.colptr(t), c.dZ[L - 1].colptr(t), n);
  }

  void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    const std::size_t L = net.depth();
    g.dW.resize(L);
    g.db.resize(L);
    for (std::size_t l = L; l-- > 0;) {
      const auto& W = net.layers[l].W;
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      const auto& dZ = c.dZ[l];
      const arma::uword n = W.n_rows, k = W.n_cols, m = Ain.n_cols;
      auto& dW = g.dW[l];
      auto& db = g.db[l];
      dW.set_size(n, k);
      db.set_size(n);
      // dW(:,j) = sum_t dZ(:,t) Ain(j,t)                              parallel over j
#pragma omp parallel for schedule(static) num_threads(nt_)
      for (arma::uword j = 0; j < k; ++j) {
        T* d = dW.colptr(j);
        std::fill(d, d + n, T(0));
        for (arma::uword t = 0; t < m; ++t) axpy(d, dZ.colptr(t), Ain(j, t), n);
      }
      // db(i) = sum_t dZ(i,t), rows in blocks of 64                   parallel over blocks
      const arma::uword nb = (n + 63) / 64;
#pragma omp parallel for schedule(static) num_threads(nt_)
      for (arma::uword blk = 0; blk < nb; ++blk) {
        const arma::uword i0 = blk * 64, len = std::min<arma::uword>(64, n - i0);
        T* d = db.memptr() + i0;
        std::fill(d, d + len, T(0));
        for (arma::uword t = 0; t < m; ++t) axpy(d, dZ.colptr(t) + i0, T(1), len);
      }
      // dAin(j,t) = W(:,j) . dZ(:,t);  dZin(:,t) = dAin(:,t) o g'(Zin(:,t))    parallel over t
      arma::Mat<T>* dAin = l > 0 ? &c.dA[l - 1] : (want_dX ? &g.dX : nullptr);
      if (!dAin) continue;
      dAin->set_size(k, m);
#pragma omp parallel for schedule(static) num_threads(nt_)
      for (arma::uword t = 0; t < m; ++t) {
        T* da = dAin->colptr(t);
        for (arma::uword j = 0; j < k; ++j) da[j] = dot(W.colptr(j), dZ.colptr(t), n);
        if (l > 0) act_backward_col(net.layers[l - 1].act, c.Z[l - 1].colptr(t),
                                    c.A[l - 1].colptr(t), da, c.dZ[l - 1].colptr(t), k);
      }
    }
  }

 private:
  static void activate_col(Activation g, const T* z, T* a, arma::uword n) {
    if (g == Activation::softmax) return act::softmax_col(z, a, n);
    act::dispatch(g, [&](auto F) {
      for (arma::uword i = 0; i < n; ++i) a[i] = decltype(F)::f(z[i]);
    });
  }
  static void act_backward_col(Activation g, const T* z, const T* a, const T* da, T* dz,
                               arma::uword n) {
    if (g == Activation::softmax) return act::softmax_col_backward(a, da, dz, n);
    act::dispatch(g, [&](auto F) {
      for (arma::uword i = 0; i < n; ++i) dz[i] = da[i] * decltype(F)::df(z[i], a[i]);
    });
  }

  int nt_;
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_openmp_backend(int threads) {
  return std::make_unique<OpenmpBackend<T>>(threads);
}
template std::unique_ptr<Backend<float>> make_openmp_backend<float>(int);
template std::unique_ptr<Backend<double>> make_openmp_backend<double>(int);

}  // namespace nnlab
