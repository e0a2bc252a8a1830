// Finite-difference, complex-step and cross-backend verification (see nnlab/methods/gradcheck.hpp).
#include "nnlab/methods/gradcheck.hpp"

#include "nnlab/backends/naive.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/methods/hessian.hpp"

#include <cmath>
#include <limits>
#include <random>

namespace nnlab {
namespace {

struct Stencil { std::vector<double> offsets, weights; double denom; };
Stencil stencil(int order) {
  if (order == 2) return {{1, -1}, {1, -1}, 2};
  if (order == 4) return {{2, 1, -1, -2}, {-1, 8, -8, 1}, 12};
  throw InputError("gradcheck: order must be 2 or 4, got " + std::to_string(order));
}
double default_h(int order) { return order == 4 ? 5e-4 : 6.0554544523933395e-6; /* eps^(1/3) */ }

// Fills the error fields of a block from analytic and numeric values.
void score(BlockReport& b, const arma::vec& an, const arma::vec& nu, const std::vector<bool>& kink,
           double floor) {
  b.n = an.n_elem;
  b.grad_norm = arma::norm(an);
  for (arma::uword i = 0; i < an.n_elem; ++i)  // a NaN or inf is evidence of nothing: it fails
    if (!std::isfinite(an[i]) || !std::isfinite(nu[i])) {
      b.worst = i;
      b.analytic = an[i];
      b.numeric = nu[i];
      b.max_abs = b.max_rel = std::numeric_limits<double>::infinity();
      b.passed = false;
      b.verdict = "non-finite";
      return;
    }
  bool any_counted = false, an_zero = true, nu_zero = true;
  double worst_rel = -1;
  for (arma::uword i = 0; i < an.n_elem; ++i) {
    if (kink[i]) { ++b.n_kink; continue; }
    any_counted = true;
    const double abs = std::abs(an[i] - nu[i]);
    const double rel = abs / std::max({std::abs(an[i]), std::abs(nu[i]), floor});
    if (an[i] != 0) an_zero = false;
    if (std::abs(nu[i]) > floor) nu_zero = false;
    b.max_abs = std::max(b.max_abs, abs);
    if (rel > worst_rel) { worst_rel = rel; b.worst = i; }
  }
  if (any_counted) {
    b.max_rel = worst_rel;
    b.analytic = an[b.worst];
    b.numeric = nu[b.worst];
  }
  if (b.n == 0) { b.passed = true; b.verdict = "ok"; return; }
  if (!any_counted) { b.passed = false; b.verdict = "kink-only"; return; }
  if (an_zero && !nu_zero) { b.passed = false; b.verdict = "FAIL"; return; }
  b.passed = b.max_rel <= b.tol;
  b.verdict = !b.passed ? "FAIL" : (an_zero ? "zero" : "ok");
}

// Whole-check rules: J is finite, all blocks pass, not every block is zero.
void conclude(CheckReport& r) {
  if (!std::isfinite(r.cost)) {
    BlockReport j;
    j.name = "J";
    j.n = 1;
    j.analytic = r.cost;
    j.max_abs = j.max_rel = std::numeric_limits<double>::infinity();
    j.verdict = "non-finite";
    r.blocks.insert(r.blocks.begin(), j);
  }
  bool all_zero = true;
  r.passed = true;
  for (const auto& b : r.blocks) {
    r.passed = r.passed && b.passed;
    if (b.verdict != "zero" && b.n > 0) all_zero = false;
  }
  if (all_zero) {
    r.passed = false;
    for (auto& b : r.blocks) if (b.verdict == "zero") { b.verdict = "FAIL(all-zero)"; b.passed = false; }
  }
}

}  // namespace

std::vector<std::uint8_t> kink_signature(const Network<double>& net, const Cache<double>& c, const arma::mat& Y) {
  std::vector<std::uint8_t> s;
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const auto ks = kinks(net.layers[l].act);
    if (ks.empty()) continue;
    for (const double z : c.Z[l]) {
      std::uint8_t r = 0;
      for (const double k : ks) r += z > k ? 2 : (z == k ? 1 : 0);
      s.push_back(r);
    }
  }
  if (net.loss == Loss::hinge) {
    const auto& A = c.A.back();
    for (arma::uword i = 0; i < A.n_elem; ++i) {
      const double h = 1 - Y[i] * A[i];
      s.push_back(h > 0 ? 2 : (h == 0 ? 1 : 0));
    }
  }
  return s;
}

CheckReport check_fd(Backend<double>& be, const Network<double>& net, const arma::mat& X,
                     const arma::mat& Y, const FdOptions& opt) {
  const Stencil st = stencil(opt.order);
  const double h = opt.h > 0 ? opt.h : default_h(opt.order);
  const double tol = opt.rel_tol > 0 ? opt.rel_tol : (opt.order == 4 ? kFdRelTol : kFd2RelTol);
  Cache<double> c;
  Grads<double> g;
  CheckReport r;
  r.what = std::string(name(be.kind())) + " vs central FD (order " + std::to_string(opt.order) + ")";
  r.cost = be.value_and_grad(net, X, Y, c, g, opt.check_input);
  const auto sig0 = kink_signature(net, c, Y);

  Network<double> p = net;
  arma::mat Xp = X;
  // Numeric derivative of J with respect to the scalar *v (restored afterwards).
  auto derive = [&](double* v, bool l1_weight, bool& kink) {
    const double v0 = *v, hi = h * std::max(1.0, std::abs(v0));
    double acc = 0;
    kink = l1_weight && net.l1 > 0 && v0 != 0 && std::abs(v0) <= 2 * hi;
    for (std::size_t s = 0; s < st.offsets.size(); ++s) {
      *v = v0 + st.offsets[s] * hi;
      acc += st.weights[s] * be.value(p, Xp, Y, c);
      ++r.evaluations;
      if (!kink && kink_signature(p, c, Y) != sig0) kink = true;
    }
    *v = v0;
    return acc / (st.denom * hi);
  };

  struct Pending { BlockReport b; arma::vec an, nu; std::vector<bool> kink; };
  std::vector<Pending> pend;
  double nu_max = 0;
  auto run_block = [&](const std::string& nm, int layer, double* data, std::size_t n, const double* an,
                       bool is_weight) {
    Pending q;
    q.b.name = nm; q.b.layer = layer; q.b.tol = tol;
    q.an = arma::vec(an, n);
    q.nu.set_size(n);
    q.kink.assign(n, false);
    for (std::size_t i = 0; i < n; ++i) {
      bool k = false;
      q.nu[i] = derive(data + i, is_weight, k);
      q.kink[i] = k;
      nu_max = std::max(nu_max, std::abs(q.nu[i]));
    }
    pend.push_back(std::move(q));
  };
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const std::string s = std::to_string(l + 1);
    run_block("W" + s, int(l + 1), p.layers[l].W.memptr(), p.layers[l].W.n_elem, g.dW[l].memptr(), true);
    run_block("b" + s, int(l + 1), p.layers[l].b.memptr(), p.layers[l].b.n_elem, g.db[l].memptr(), false);
  }
  if (opt.check_input) run_block("X", 0, Xp.memptr(), Xp.n_elem, g.dX.memptr(), false);

  const double floor = kRelFloor * (std::abs(r.cost) + nu_max);
  for (auto& q : pend) {
    score(q.b, q.an, q.nu, q.kink, floor);
    r.blocks.push_back(q.b);
  }
  conclude(r);
  return r;
}

std::complex<double> naive_cost_complex(const Network<std::complex<double>>& net,
                                        const arma::cx_mat& X, const arma::cx_mat& Y) {
  std::vector<arma::cx_mat> Z, A;
  naive::forward(net, X, Z, A);
  return naive::cost(net, Y, Z, A);
}

CheckReport check_complex_step(const Network<double>& net, const arma::mat& X, const arma::mat& Y,
                               bool check_input) {
  for (const auto& L : net.layers)
    if (!complex_step_ok(L.act))
      throw InputError("check_complex_step: activation '" + std::string(name(L.act)) +
                       "' has no complex extension here (std::erf is real only)");
  const double h = 1e-20;
  auto be = make_backend<double>(BackendKind::naive);
  Cache<double> c;
  Grads<double> g;
  CheckReport r;
  r.what = "naive vs complex step (h = 1e-20)";
  r.cost = be->value_and_grad(net, X, Y, c, g, check_input);
  auto cnet = net.cast<std::complex<double>>();
  arma::cx_mat cX = arma::conv_to<arma::cx_mat>::from(X), cY = arma::conv_to<arma::cx_mat>::from(Y);
  struct Pending { BlockReport b; arma::vec an, nu; };
  std::vector<Pending> pend;
  auto run_block = [&](const std::string& nm, int layer, std::complex<double>* data, std::size_t n,
                       const double* an) {
    Pending q;
    q.b.name = nm; q.b.layer = layer; q.b.tol = kComplexStepRelTol;
    q.an = arma::vec(an, n);
    q.nu.set_size(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto v0 = data[i];
      data[i] += std::complex<double>(0, h);
      q.nu[i] = naive_cost_complex(cnet, cX, cY).imag() / h;
      data[i] = v0;
      ++r.evaluations;
    }
    pend.push_back(std::move(q));
  };
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const std::string s = std::to_string(l + 1);
    run_block("W" + s, int(l + 1), cnet.layers[l].W.memptr(), cnet.layers[l].W.n_elem, g.dW[l].memptr());
    run_block("b" + s, int(l + 1), cnet.layers[l].b.memptr(), cnet.layers[l].b.n_elem, g.db[l].memptr());
  }
  if (check_input) run_block("X", 0, cX.memptr(), cX.n_elem, g.dX.memptr());
  // Blockwise: relative to the block's largest entry (see the header).
  for (auto& q : pend) {
    const double floor = std::max(q.nu.n_elem ? double(arma::abs(q.nu).max()) : 0.0, 1e-300);
    score(q.b, q.an, q.nu, std::vector<bool>(q.an.n_elem, false), floor);
    r.blocks.push_back(q.b);
  }
  conclude(r);
  return r;
}

template <class T> double rel_diff(const arma::Mat<T>& a, const arma::Mat<T>& b) {
  if (a.n_elem != b.n_elem) return std::numeric_limits<double>::infinity();
  if (a.n_elem == 0) return 0;
  const double d = double(arma::abs(a - b).max());
  const double s = double(arma::abs(b).max());
  return s == 0 ? (d == 0 ? 0 : std::numeric_limits<double>::infinity()) : d / s;
}
template double rel_diff<float>(const arma::Mat<float>&, const arma::Mat<float>&);
template double rel_diff<double>(const arma::Mat<double>&, const arma::Mat<double>&);

CheckReport compare_backends(Backend<double>& a, Backend<double>& b, const Network<double>& net,
                             const arma::mat& X, const arma::mat& Y, double rel_tol) {
  Cache<double> ca, cb;
  Grads<double> ga, gb;
  CheckReport r;
  r.what = std::string(name(a.kind())) + " vs " + std::string(name(b.kind()));
  r.cost = a.value_and_grad(net, X, Y, ca, ga, true);
  const double Jb = b.value_and_grad(net, X, Y, cb, gb, true);
  auto block = [&](const std::string& nm, int layer, const arma::mat& x, const arma::mat& y) {
    BlockReport br;
    br.name = nm; br.layer = layer; br.n = x.n_elem; br.tol = rel_tol;
    br.grad_norm = arma::norm(x, "fro");
    if (!x.is_finite() || !y.is_finite()) {  // Armadillo's max() would skip a NaN
      br.max_abs = br.max_rel = std::numeric_limits<double>::infinity();
      br.verdict = "non-finite";
      r.blocks.push_back(br);
      return;
    }
    br.max_abs = x.n_elem ? double(arma::abs(x - y).max()) : 0;
    br.max_rel = rel_diff(x, y);
    br.passed = br.max_rel <= rel_tol;
    br.verdict = br.passed ? "ok" : "FAIL";
    r.blocks.push_back(br);
  };
  block("J", 0, arma::mat{r.cost}, arma::mat{Jb});
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const std::string s = std::to_string(l + 1);
    block("W" + s, int(l + 1), ga.dW[l], gb.dW[l]);
    block("b" + s, int(l + 1), ga.db[l], gb.db[l]);
  }
  block("X", 0, ga.dX, gb.dX);
  r.passed = true;
  for (const auto& br : r.blocks) r.passed = r.passed && br.passed;
  return r;
}

DirectionalReport check_directional(Backend<double>& be, const Network<double>& net,
                                    const arma::mat& X, const arma::mat& Y, std::uint64_t seed,
                                    const FdOptions& opt) {
  const Stencil st = stencil(opt.order);
  const double h = opt.h > 0 ? opt.h : default_h(opt.order);
  Cache<double> c;
  Grads<double> g;
  const double J = be.value_and_grad(net, X, Y, c, g);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  arma::vec v(net.n_params());
  for (auto& x : v) x = N(rng);
  v /= arma::norm(v);
  const arma::vec theta = flatten_params(net);
  Network<double> p = net;
  double acc = 0;
  for (std::size_t s = 0; s < st.offsets.size(); ++s) {
    set_params(p, arma::vec(theta + st.offsets[s] * h * v));
    acc += st.weights[s] * be.value(p, X, Y, c);
  }
  DirectionalReport r;
  r.analytic = arma::dot(v, g.flatten());
  r.numeric = acc / (st.denom * h);
  r.abs_err = std::abs(r.analytic - r.numeric);
  r.rel_err = r.abs_err / std::max({std::abs(r.analytic), std::abs(r.numeric), kRelFloor * std::abs(J)});
  r.tol = opt.rel_tol > 0 ? opt.rel_tol : (opt.order == 4 ? kFdRelTol : kFd2RelTol);
  r.finite = std::isfinite(J) && std::isfinite(r.analytic) && std::isfinite(r.numeric);
  if (!r.finite) r.abs_err = r.rel_err = std::numeric_limits<double>::infinity();
  r.passed = r.finite && r.rel_err <= r.tol;
  return r;
}

DirectionalReport check_forward_mode(Backend<double>& be, const Network<double>& net, const arma::mat& X,
                                     const arma::mat& Y, std::uint64_t seed) {
  Cache<double> c;
  Grads<double> g;
  const double J = be.value_and_grad(net, X, Y, c, g);
  const Grads<double> v = random_direction(net, seed);
  const arma::vec vf = v.flatten(), gf = g.flatten();
  const Jvp f = jvp(net, X, Y, v);
  DirectionalReport r;
  r.analytic = arma::dot(vf, gf);
  r.numeric = f.dJ;
  r.abs_err = std::abs(r.analytic - r.numeric);
  r.rel_err = r.abs_err / std::max(arma::dot(arma::abs(vf), arma::abs(gf)), 1e-300);
  r.tol = kForwardModeRelTol;
  r.finite = std::isfinite(J) && std::isfinite(f.J) && std::isfinite(r.analytic) && std::isfinite(r.numeric);
  if (!r.finite) r.abs_err = r.rel_err = std::numeric_limits<double>::infinity();
  r.passed = r.finite && r.rel_err <= r.tol;
  return r;
}

CheckReport check_hvp(const Network<double>& net, const arma::mat& X, const arma::mat& Y, std::uint64_t seed,
                      const std::string& method) {
  CheckReport r;
  r.what = "H v: dual numbers vs " + method;
  const double tol = method == "fd" ? kHvpFdRelTol : method == "rop" ? kHvpRopRelTol : kHvpComplexStepRelTol;
  Grads<double> v, ref, other;
  bool kink = true;
  for (int attempt = 0; attempt < (method == "fd" ? 5 : 1) && kink; ++attempt) {
    v = random_direction(net, seed + std::uint64_t(attempt) * 7919);
    ref = hvp(net, X, Y, v, &r.cost);
    if (method == "fd") other = hvp_fd(net, X, Y, v, 4, 1e-3, &kink);
    else if (method == "rop") other = hvp_rop(net, X, Y, v), kink = false;
    else if (method == "complex-step") other = hvp_complex_step(net, X, Y, v), kink = false;
    else throw InputError("check_hvp: method must be fd, complex-step or rop, got '" + method + "'");
  }
  const double top = ref.dW.empty() ? 0 : double(arma::abs(ref.flatten()).max());
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const std::string s = std::to_string(l + 1);
    for (int wb = 0; wb < 2; ++wb) {
      BlockReport b;
      b.name = (wb ? "b" : "W") + s;
      b.layer = int(l + 1);
      b.tol = tol;
      const arma::vec a = wb ? arma::vec(other.db[l]) : arma::vectorise(other.dW[l]);
      const arma::vec n = wb ? arma::vec(ref.db[l]) : arma::vectorise(ref.dW[l]);
      if (kink) {
        b.n = n.n_elem;
        b.n_kink = n.n_elem;
        b.verdict = "kink-only";
        r.blocks.push_back(b);
        continue;
      }
      const double floor = std::max({n.n_elem ? double(arma::abs(n).max()) : 0.0, 1e-3 * top, 1e-300});
      score(b, a, n, std::vector<bool>(n.n_elem, false), floor);
      r.blocks.push_back(b);
    }
  }
  conclude(r);
  return r;
}

double fd_forward(const std::function<double(double)>& f, double x, double h) {
  return (f(x + h) - f(x)) / h;
}
double fd_central(const std::function<double(double)>& f, double x, double h, int order) {
  if (order == 4) return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h);
  return (f(x + h) - f(x - h)) / (2 * h);
}

}  // namespace nnlab
