// Forward mode and Hessian-vector products (see hessian.hpp).
#include "nnlab/methods/hessian.hpp"

#include "nnlab/backends/backend.hpp"
#include "nnlab/backends/naive.hpp"
#include "nnlab/core/dual.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/methods/gradcheck.hpp"

#include <complex>
#include <random>

namespace nnlab {

namespace {

using D = ad::Dual<double>;
using C = std::complex<double>;

// The network theta + eps v (S = D: tangent v) or theta + i h v (S = C), and data as S.
template <class S> S lift(double x, double v, double scale) {
  if constexpr (std::is_same_v<S, D>) return D(x, v * scale);
  else return C(x, v * scale);
}
template <class S> Network<S> lifted(const Network<double>& net, const Grads<double>& v, double scale) {
  Network<S> o;
  o.loss = net.loss;
  o.l1 = S(net.l1);
  o.l2 = S(net.l2);
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const auto& L = net.layers[l];
    Layer<S> M{L.act, arma::Mat<S>(L.W.n_rows, L.W.n_cols), arma::Col<S>(L.b.n_elem)};
    for (arma::uword i = 0; i < L.W.n_elem; ++i) M.W[i] = lift<S>(L.W[i], v.dW[l][i], scale);
    for (arma::uword i = 0; i < L.b.n_elem; ++i) M.b[i] = lift<S>(L.b[i], v.db[l][i], scale);
    o.layers.push_back(std::move(M));
  }
  return o;
}
template <class S> arma::Mat<S> constant(const arma::mat& M) {
  arma::Mat<S> o(M.n_rows, M.n_cols);
  for (arma::uword i = 0; i < M.n_elem; ++i) o[i] = S(M[i]);
  return o;
}

// The naive backward pass in S; `part` takes the derivative part of each gradient entry.
template <class S, class Part>
Grads<double> gradient_part(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v,
                            double scale, Part part, double* J) {
  check_direction(net, v, "hvp: v");
  const Network<S> n = lifted<S>(net, v, scale);
  const arma::Mat<S> Xs = constant<S>(X), Ys = constant<S>(Y);
  std::vector<arma::Mat<S>> Z, A, dZ, dA, dW;
  std::vector<arma::Col<S>> db;
  naive::forward(n, Xs, Z, A);
  if (J) {
    const S c = naive::cost(n, Ys, Z, A);
    if constexpr (std::is_same_v<S, D>) *J = c.v;
    else *J = c.real();
  }
  naive::backward(n, Xs, Ys, Z, A, dZ, dA, dW, db, static_cast<arma::Mat<S>*>(nullptr));
  Grads<double> h;
  for (std::size_t l = 0; l < net.depth(); ++l) {
    h.dW.emplace_back(dW[l].n_rows, dW[l].n_cols);
    h.db.emplace_back(db[l].n_elem);
    for (arma::uword i = 0; i < dW[l].n_elem; ++i) h.dW[l][i] = part(dW[l][i]);
    for (arma::uword i = 0; i < db[l].n_elem; ++i) h.db[l][i] = part(db[l][i]);
  }
  return h;
}

Grads<double> combine(const Grads<double>& a, double s, const Grads<double>& b) {  // a + s b
  Grads<double> o = a;
  for (std::size_t l = 0; l < o.dW.size(); ++l) {
    o.dW[l] += s * b.dW[l];
    o.db[l] += s * b.db[l];
  }
  return o;
}

// R{dZ} from R{dA} for the activation g: R{dA} o g'(Z) + dA o g''(Z) o R{Z}, or for softmax,
// R{a o (dA - a'dA)} per column.
void act_rop(Activation g, const arma::mat& Z, const arma::mat& A, const arma::mat& dA, const arma::mat& RZ,
             const arma::mat& RA, const arma::mat& RdA, arma::mat& RdZ) {
  RdZ.set_size(Z.n_rows, Z.n_cols);
  if (g == Activation::softmax) {
    for (arma::uword t = 0; t < Z.n_cols; ++t) {
      const arma::vec a = A.col(t), ra = RA.col(t), d = dA.col(t), rd = RdA.col(t);
      const double ad = arma::dot(a, d), rad = arma::dot(ra, d) + arma::dot(a, rd);
      RdZ.col(t) = ra % (d - ad) + a % (rd - rad);
    }
    return;
  }
  for (arma::uword i = 0; i < Z.n_elem; ++i)
    RdZ[i] = RdA[i] * act::deriv(g, Z[i]) + dA[i] * act::second_derivative(g, Z[i]) * RZ[i];
}

}  // namespace

void check_direction(const Network<double>& net, const Grads<double>& v, const std::string& src) {
  if (v.dW.size() != net.depth() || v.db.size() != net.depth())
    throw InputError(src + ": has " + std::to_string(v.dW.size()) + " layers, the model has " +
                     std::to_string(net.depth()));
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const auto& W = net.layers[l].W;
    if (v.dW[l].n_rows != W.n_rows || v.dW[l].n_cols != W.n_cols || v.db[l].n_elem != W.n_rows)
      throw InputError(src + ": layer " + std::to_string(l + 1) + " is " + std::to_string(v.dW[l].n_rows) + " x " +
                       std::to_string(v.dW[l].n_cols) + " (b " + std::to_string(v.db[l].n_elem) +
                       "), the model's W is " + std::to_string(W.n_rows) + " x " + std::to_string(W.n_cols));
  }
}

Jvp jvp(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v) {
  check_direction(net, v, "jvp: v");
  const Network<D> n = lifted<D>(net, v, 1.0);
  std::vector<arma::Mat<D>> Z, A;
  naive::forward(n, constant<D>(X), Z, A);
  const D J = naive::cost(n, constant<D>(Y), Z, A);
  Jvp r;
  r.J = J.v;
  r.dJ = J.d;
  r.A.set_size(A.back().n_rows, A.back().n_cols);
  r.dA.set_size(r.A.n_rows, r.A.n_cols);
  for (arma::uword i = 0; i < r.A.n_elem; ++i) {
    r.A[i] = A.back()[i].v;
    r.dA[i] = A.back()[i].d;
  }
  return r;
}

Grads<double> hvp(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v,
                  double* J) {
  return gradient_part<D>(net, X, Y, v, 1.0, [](const D& x) { return x.d; }, J);
}

Grads<double> hvp_complex_step(const Network<double>& net, const arma::mat& X, const arma::mat& Y,
                               const Grads<double>& v) {
  for (const auto& L : net.layers)
    if (!complex_step_ok(L.act))
      throw InputError("hvp_complex_step: activation '" + std::string(name(L.act)) +
                       "' has no complex extension here (std::erf is real only)");
  constexpr double h = 1e-20;
  return gradient_part<C>(net, X, Y, v, h, [](const C& x) { return x.imag() / h; }, nullptr);
}

Grads<double> hvp_fd(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v,
                     int order, double h, bool* crossed_kink) {
  check_direction(net, v, "hvp_fd: v");
  if (order != 2 && order != 4) throw InputError("hvp_fd: order must be 2 or 4, got " + std::to_string(order));
  if (h <= 0) h = order == 4 ? 1e-3 : 6.0554544523933395e-6;
  auto be = make_backend<double>(BackendKind::naive);
  Cache<double> c;
  Grads<double> g;
  be->forward(net, X, c);
  const auto sig0 = kink_signature(net, c, Y);
  const arma::vec theta = flatten_params(net);
  arma::vec dir(theta.n_elem);
  {
    std::size_t k = 0;
    for (std::size_t l = 0; l < net.depth(); ++l) {
      for (const double x : v.dW[l]) dir[k++] = x;
      for (const double x : v.db[l]) dir[k++] = x;
    }
  }
  if (crossed_kink) *crossed_kink = false;
  Network<double> p = net;
  const auto grad_at = [&](double t) {
    set_params(p, arma::vec(theta + t * dir));
    be->value_and_grad(p, X, Y, c, g);
    if (crossed_kink && kink_signature(p, c, Y) != sig0) *crossed_kink = true;
    if (crossed_kink && net.l1 > 0)
      for (std::size_t l = 0; l < net.depth(); ++l)
        for (arma::uword i = 0; i < net.layers[l].W.n_elem; ++i)
          if ((net.layers[l].W[i] > 0) != (p.layers[l].W[i] > 0) || (net.layers[l].W[i] < 0) != (p.layers[l].W[i] < 0))
            *crossed_kink = true;
    return g;
  };
  const std::vector<std::pair<double, double>> stencil =
      order == 2 ? std::vector<std::pair<double, double>>{{1, 1}, {-1, -1}}
                 : std::vector<std::pair<double, double>>{{2, -1}, {1, 8}, {-1, -8}, {-2, 1}};
  const double denom = order == 2 ? 2 * h : 12 * h;
  Grads<double> acc;
  for (std::size_t s = 0; s < stencil.size(); ++s) {
    const Grads<double> gi = grad_at(stencil[s].first * h);
    acc = s == 0 ? combine(gi, stencil[s].second - 1, gi) : combine(acc, stencil[s].second, gi);
  }
  for (std::size_t l = 0; l < acc.dW.size(); ++l) {
    acc.dW[l] /= denom;
    acc.db[l] /= denom;
  }
  return acc;
}

Grads<double> hvp_rop(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v) {
  check_direction(net, v, "hvp_rop: v");
  const std::size_t L = net.depth();
  const double m = double(X.n_cols);
  std::vector<arma::mat> Z(L), A(L), RZ(L), RA(L);
  // forward, and its derivative along v:  R{Z} = R{W} A_in + W R{A_in} + R{b},  R{A} = g'(Z) R{Z}
  for (std::size_t l = 0; l < L; ++l) {
    const auto& Ly = net.layers[l];
    const arma::mat& Ain = l == 0 ? X : A[l - 1];
    Z[l] = Ly.W * Ain;
    Z[l].each_col() += Ly.b;
    activate(Ly.act, Z[l], A[l]);
    RZ[l] = v.dW[l] * Ain;
    if (l > 0) RZ[l] += Ly.W * RA[l - 1];
    RZ[l].each_col() += v.db[l];
    if (Ly.act == Activation::softmax) {
      RA[l].set_size(arma::size(Z[l]));
      for (arma::uword t = 0; t < Z[l].n_cols; ++t) {
        const arma::vec a = A[l].col(t), rz = RZ[l].col(t);
        RA[l].col(t) = a % (rz - arma::dot(a, rz));
      }
    } else {
      RA[l] = activation_derivative(Ly.act, Z[l]) % RZ[l];
    }
  }
  // the loss:  dZ[L] = (1/m) dloss/dZ[L], and R{dZ[L]}
  const Activation gL = net.layers[L - 1].act;
  arma::mat dA(arma::size(A[L - 1])), dZ(arma::size(A[L - 1])), RdZ;
  lossfn::output_gradient(net.loss, gL, Z[L - 1], A[L - 1], Y, dA, dZ, 1.0 / m, 0, X.n_cols);
  switch (net.loss) {
    case Loss::bce: RdZ = RA[L - 1] / m; break;  // dZ = (a - y)/m
    case Loss::ce: RdZ = RA[L - 1].each_row() % arma::sum(Y, 0) / m; break;  // dZ = (a sum(y) - y)/m
    case Loss::mse: act_rop(gL, Z[L - 1], A[L - 1], dA, RZ[L - 1], RA[L - 1], RA[L - 1] / m, RdZ); break;
    case Loss::hinge:  // dA = -y/m on the active margins: piecewise constant, R{dA} = 0
      act_rop(gL, Z[L - 1], A[L - 1], dA, RZ[L - 1], RA[L - 1], arma::zeros(arma::size(dA)), RdZ);
      break;
  }
  // back through the layers:  R{dW} = R{dZ} A_in' + dZ R{A_in}',  R{db} = sum R{dZ},
  // R{dA_in} = R{W}' dZ + W' R{dZ}
  Grads<double> H;
  H.dW.resize(L);
  H.db.resize(L);
  for (std::size_t l = L; l-- > 0;) {
    const auto& W = net.layers[l].W;
    const arma::mat& Ain = l == 0 ? X : A[l - 1];
    H.dW[l] = RdZ * Ain.t();
    if (l > 0) H.dW[l] += dZ * RA[l - 1].t();
    H.db[l] = arma::sum(RdZ, 1);
    H.dW[l] += 2 * net.l2 * v.dW[l];  // l2 W's gradient 2 l2 W; l1 sign(W) adds 0
    if (l == 0) break;
    const arma::mat dAin = W.t() * dZ, RdAin = v.dW[l].t() * dZ + W.t() * RdZ;
    const Activation g = net.layers[l - 1].act;
    arma::mat dZin;
    activate_backward(g, Z[l - 1], A[l - 1], dAin, dZin);
    arma::mat RdZin;
    act_rop(g, Z[l - 1], A[l - 1], dAin, RZ[l - 1], RA[l - 1], RdAin, RdZin);
    dZ = std::move(dZin);
    RdZ = std::move(RdZin);
  }
  return H;
}

Grads<double> random_direction(const Network<double>& net, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  Grads<double> v;
  double s = 0;
  for (const auto& L : net.layers) {
    v.dW.emplace_back(L.W.n_rows, L.W.n_cols);
    v.db.emplace_back(L.b.n_elem);
    for (auto& x : v.dW.back()) {
      x = N(rng);
      s += x * x;
    }
    for (auto& x : v.db.back()) {
      x = N(rng);
      s += x * x;
    }
  }
  for (std::size_t l = 0; l < v.dW.size(); ++l) {
    v.dW[l] /= std::sqrt(s);
    v.db[l] /= std::sqrt(s);
  }
  return v;
}

}  // namespace nnlab
