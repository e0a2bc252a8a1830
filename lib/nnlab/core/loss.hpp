// nnlab/core/loss.hpp -- the four losses of the contract, per sample (one column).
//
// Letters: n = outputs (n_L), a = output column A[L](:,i), z = Z[L](:,i), y = target column.
//   mse    loss = 0.5 sum_k (a_k - y_k)^2                dloss/da_k = a_k - y_k
//   hinge  loss = sum_k max(0, 1 - y_k a_k)              dloss/da_k = -y_k if 1 - y_k a_k > 0, else 0
//   bce    loss = sum_k max(z_k,0) - z_k y_k + log1p(exp(-|z_k|))     (from Z, last act sigmoid)
//          dloss/dz_k = sigmoid(z_k) - y_k = a_k - y_k
//   ce     loss = sum_k y_k (lse(z) - z_k),  lse(z) = log sum_j exp z_j  (from Z, last act softmax)
//          dloss/dz_k = a_k sum_j y_j - y_k     (= a_k - y_k for a probability vector y)
// bce and ce are fused with their activation: the backends start backward from dZ[L].
// mse and hinge give dA[L]; the backends apply the last activation's backward to it.
#pragma once
#include "nnlab/core/activations.hpp"

#include <optional>
#include <string_view>

namespace nnlab {

enum class Loss { mse, bce, ce, hinge };
inline constexpr Loss kAllLosses[] = {Loss::mse, Loss::bce, Loss::ce, Loss::hinge};

std::string_view name(Loss l);
std::optional<Loss> loss_from_name(std::string_view s);
// The last activation a loss requires (bce: sigmoid, ce: softmax), if any.
std::optional<Activation> required_last_activation(Loss l);
// Whether the loss is fused with its activation (computed from Z, backward starts at dZ).
inline bool fused_with_activation(Loss l) { return l == Loss::bce || l == Loss::ce; }

namespace lossfn {
using act::re;

// Per-sample loss of one column.  z, a, y have n entries.
template <class S> S value(Loss l, const S* z, const S* a, const S* y, std::size_t n) {
  S s = 0;
  switch (l) {
    case Loss::mse:
      for (std::size_t k = 0; k < n; ++k) { const S d = a[k] - y[k]; s += S(0.5) * d * d; }
      return s;
    case Loss::hinge:
      for (std::size_t k = 0; k < n; ++k) { const S h = S(1) - y[k] * a[k]; if (re(h) > 0) s += h; }
      return s;
    case Loss::bce:
      for (std::size_t k = 0; k < n; ++k)
        s += (re(z[k]) >= 0 ? z[k] : S(0)) - z[k] * y[k] + act::log1p_(act::exp_(-act::abs_an(z[k])));
      return s;
    case Loss::ce: {
      auto mx = re(z[0]);
      for (std::size_t k = 1; k < n; ++k) mx = std::max(mx, re(z[k]));
      S e = 0;
      for (std::size_t k = 0; k < n; ++k) e += act::exp_(z[k] - S(mx));
      const S lse = S(mx) + act::log_(e);
      for (std::size_t k = 0; k < n; ++k) if (y[k] != S(0)) s += y[k] * (lse - z[k]);
      return s;
    }
  }
  return s;
}

// Gradient of the per-sample loss, scaled by `scale` (= 1/m for the mean cost):
//   mse, hinge: writes dloss/da into g;   bce, ce: writes dloss/dz into g.
template <class S>
void gradient(Loss l, const S* a, const S* y, S* g, std::size_t n, S scale) {
  // Each case is an exercise (labs/exercises): TASK ... END TASK is the student's region.
  switch (l) {
    case Loss::mse:
      // TASK loss-mse
      for (std::size_t k = 0; k < n; ++k) g[k] = scale * (a[k] - y[k]);
      // STUB
      // (void)a, (void)y, (void)scale;
      // for (std::size_t k = 0; k < n; ++k) g[k] = S(0);
      // END TASK loss-mse
      return;
    case Loss::bce:
      // TASK loss-bce
      for (std::size_t k = 0; k < n; ++k) g[k] = scale * (a[k] - y[k]);  // dZ = A - Y
      // STUB
      // (void)a, (void)y, (void)scale;
      // for (std::size_t k = 0; k < n; ++k) g[k] = S(0);
      // END TASK loss-bce
      return;
    case Loss::hinge:
      // TASK loss-hinge
      for (std::size_t k = 0; k < n; ++k) g[k] = re(S(1) - y[k] * a[k]) > 0 ? -scale * y[k] : S(0);
      // STUB
      // (void)a, (void)y, (void)scale;
      // for (std::size_t k = 0; k < n; ++k) g[k] = S(0);
      // END TASK loss-hinge
      return;
    case Loss::ce: {
      // TASK loss-ce
      S sy = 0;
      for (std::size_t k = 0; k < n; ++k) sy += y[k];
      for (std::size_t k = 0; k < n; ++k) g[k] = scale * (a[k] * sy - y[k]);  // softmax - onehot
      // STUB
      // (void)a, (void)y, (void)scale;
      // for (std::size_t k = 0; k < n; ++k) g[k] = S(0);
      // END TASK loss-ce
      return;
    }
  }
}
// dZ[L] of the columns [t0, t1), for any scalar type: scale times the loss's gradient, into dZ
// directly (bce, ce: fused with their activation) or into dA (mse, hinge), then dZ = dA o
// g'(Z) through the last activation g.  Z, A, Y, dA, dZ are n x m and sized.  The one place the
// loss's gradient is written: every backend calls it.
template <class S>
void output_gradient(Loss l, Activation g, const arma::Mat<S>& Z, const arma::Mat<S>& A, const arma::Mat<S>& Y,
                     arma::Mat<S>& dA, arma::Mat<S>& dZ, S scale, arma::uword t0, arma::uword t1) {
  const arma::uword n = A.n_rows;
  const bool fused = fused_with_activation(l);
  arma::Mat<S>& G = fused ? dZ : dA;
  for (arma::uword t = t0; t < t1; ++t) gradient(l, A.colptr(t), Y.colptr(t), G.colptr(t), n, scale);
  if (!fused) act::backward_block(g, Z.colptr(t0), A.colptr(t0), G.colptr(t0), dZ.colptr(t0), n, t1 - t0, n);
}
}  // namespace lossfn

}  // namespace nnlab
