// Checks of the core tasks: the activations' derivatives, the softmax's vector-Jacobian
// product, the four losses' gradients and the L1/L2 terms.  References: central differences of
// the values (f and the losses' values are no exercise), and the formulas worked out by hand.
#include "check.hpp"

#include "nnlab/core/network.hpp"
#include "nnlab/methods/gradcheck.hpp"


using namespace nnlab;

namespace {
arma::vec grid() {  // -30 .. 30 and a few points near 0
  arma::vec z = arma::linspace(-30, 30, 241);
  return arma::join_cols(z, arma::vec{1e-8, -1e-8, 0.3, -0.7, 2.5});
}
arma::vec rnd(arma::uword n, unsigned seed, double sd = 1) { return ex::rnd(n, 1, seed, sd); }
double fd(const std::function<double(double)>& f, double x) { return fd_central(f, x, 1e-4 * std::max(1.0, std::abs(x)), 4); }
}  // namespace

NNLAB_CHECK("act-sigmoid", "sigma'(z) = sigma(z) (1 - sigma(z)) on -30..30, against central differences") {
  const arma::vec z = grid();
  arma::vec got(z.n_elem), want(z.n_elem), num(z.n_elem), a(z.n_elem);
  for (arma::uword i = 0; i < z.n_elem; ++i) {
    a[i] = act::Sigmoid::f(z[i]);
    got[i] = act::Sigmoid::df(z[i], a[i]);
    const double e = std::exp(-std::abs(z[i]));
    want[i] = e / ((1 + e) * (1 + e));
    num[i] = fd([](double x) { return act::Sigmoid::f(x); }, z[i]);
  }
  ex::expect_close("sigma'(z) against central differences", got, num, 1e-7, 1e-12, "", {},
                   {{z % (1 - z), "z (1 - z) uses z: the derivative is a (1 - a) with a = sigma(z), df's second argument"},
                    {a, "that is sigma(z) itself, not its derivative"}});
  // a (1 - a) loses what 1 - a rounds away: an absolute error of eps/2 near a = 1.
  ex::expect_close("sigma'(z)", got, want, 1e-14, 2e-16);
}

NNLAB_CHECK("act-tanh", "tanh'(z) = 1 - tanh(z)^2 on -30..30, against central differences") {
  const arma::vec z = grid();
  arma::vec got(z.n_elem), want(z.n_elem), num(z.n_elem), a(z.n_elem);
  for (arma::uword i = 0; i < z.n_elem; ++i) {
    a[i] = act::Tanh::f(z[i]);
    got[i] = act::Tanh::df(z[i], a[i]);
    const double c = std::cosh(std::min(std::abs(z[i]), 300.0));
    want[i] = 1 / (c * c);
    num[i] = fd([](double x) { return act::Tanh::f(x); }, z[i]);
  }
  ex::expect_close("tanh'(z) against central differences", got, num, 1e-7, 1e-12, "", {},
                   {{1 - z % z, "1 - z^2 uses z: the derivative is 1 - a^2 with a = tanh(z), df's second argument"},
                    {1 - a, "1 - a: the square is missing (1 - tanh(z)^2)"}});
  ex::expect_close("tanh'(z)", got, want, 1e-9, 1e-15);
}

NNLAB_CHECK("act-relu", "relu'(z) is 1 for z > 0, 0 for z < 0, and 0 at z = 0 (PyTorch's convention)") {
  const arma::vec z = {-3, -1e-300, 1e-300, 0.5, 7, 1e10, -1e10};
  arma::vec got(z.n_elem), want(z.n_elem);
  for (arma::uword i = 0; i < z.n_elem; ++i) {
    got[i] = act::Relu::df(z[i], act::Relu::f(z[i]));
    want[i] = z[i] > 0 ? 1 : 0;
  }
  ex::expect_close("relu'(z) at z = (-3, -1e-300, 1e-300, 0.5, 7, 1e10, -1e10)", got, want, 0, 0);
  const double at0 = act::Relu::df(0.0, 0.0), at_neg0 = act::Relu::df(-0.0, 0.0);
  ex::expect(at0 == 0 && at_neg0 == 0,
             "relu'(0) = " + ex::num(at0) + ", expected 0: at the kink nnlab takes PyTorch's value, relu'(0) = 0 "
             "(test z > 0, not z >= 0)");
  for (double x : {-2.0, -0.3, 0.4, 3.0})
    ex::expect_close("relu'(z) against central differences", act::Relu::df(x, act::Relu::f(x)),
                     fd([](double v) { return act::Relu::f(v); }, x), 1e-9, 1e-12, ex::at("z", x));
}

NNLAB_CHECK("softmax-vjp", "dz = (diag(a) - a a') g for 5 classes, against central differences of g'softmax(z)") {
  for (unsigned seed : {1u, 2u, 3u}) {
    const std::size_t n = 5;
    const arma::vec z = 2 * rnd(n, seed), g = rnd(n, seed + 10);
    arma::vec a(n), dz(n);
    act::softmax_col(z.memptr(), a.memptr(), n);
    act::softmax_col_backward(a.memptr(), g.memptr(), dz.memptr(), n);
    const arma::vec num = ex::fd_gradient([&](const arma::mat& v) {
      arma::vec s(n);
      act::softmax_col(v.memptr(), s.memptr(), n);
      return arma::dot(g, s);
    }, z);
    ex::expect_close("dz", dz, num, 1e-8, 1e-11, " (seed " + std::to_string(seed) + ")", {},
                     {{a % g, "a o g is only the diagonal of the softmax's Jacobian diag(a) - a a': subtract a (a'g)"},
                      {a % (1 - a) % g, "a (1 - a) g treats the softmax as elementwise: its Jacobian is diag(a) - a a'"}});
  }
}

namespace {
// d/dv of the per-sample loss by central differences, v = a (mse, hinge) or z (bce, ce).
arma::vec loss_fd(Loss l, const arma::vec& v, const arma::vec& y) {
  const std::size_t n = v.n_elem;
  return ex::fd_gradient([&](const arma::mat& w) {
    arma::vec z = w, a = w;
    if (l == Loss::bce) for (std::size_t k = 0; k < n; ++k) a[k] = act::sigmoid(z[k]);
    if (l == Loss::ce) act::softmax_col(z.memptr(), a.memptr(), n);
    return lossfn::value(l, z.memptr(), a.memptr(), y.memptr(), n);
  }, v);
}
arma::vec loss_grad(Loss l, const arma::vec& a, const arma::vec& y, double scale) {
  arma::vec g(a.n_elem, arma::fill::value(arma::datum::nan));
  lossfn::gradient(l, a.memptr(), y.memptr(), g.memptr(), a.n_elem, scale);
  return g;
}
const double kScale = 0.125;  // 1/m for m = 8
ex::Ratio scale_missing() { return {1 / kScale, "8 times too large: multiply by scale (= 1/m, the cost is a mean over m samples)"}; }
}  // namespace

NNLAB_CHECK("loss-mse", "dloss/da = scale (a - y) for loss = 0.5 sum (a - y)^2, against central differences") {
  const arma::vec a = rnd(4, 40), y = rnd(4, 41);
  const arma::vec got = loss_grad(Loss::mse, a, y, kScale);
  ex::expect_close("dloss/da", got, kScale * loss_fd(Loss::mse, a, y), 1e-9, 1e-12, " (scale = 1/8)",
                   {scale_missing(), {2, "twice the expected: the loss is 0.5 sum (a - y)^2, whose derivative is a - y"},
                    {2 / kScale, "2/scale times the expected: the loss has a factor 0.5, and the gradient a factor scale"}});
}

NNLAB_CHECK("loss-bce", "dloss/dz = scale (a - y), a = sigmoid(z) (fused with the sigmoid), against central differences") {
  const arma::vec z = 2 * rnd(5, 42);
  const arma::vec y = {1, 0, 1, 0.3, 0};
  arma::vec a(5);
  for (int k = 0; k < 5; ++k) a[k] = act::sigmoid(z[k]);
  const arma::vec got = loss_grad(Loss::bce, a, y, kScale);
  ex::expect_close("dloss/dz", got, kScale * loss_fd(Loss::bce, z, y), 1e-9, 1e-12, " (scale = 1/8)", {scale_missing()},
                   {{kScale * (a - y) / (a % (1 - a)), "that is dloss/da; bce is fused with its sigmoid: the gradient "
                                                       "asked is dloss/dz = dloss/da sigma'(z) = a - y"},
                    {kScale * (-y / a + (1 - y) / (1 - a)), "that is dloss/da; bce is fused with its sigmoid: the "
                                                             "gradient asked is dloss/dz = a - y"}});
}

NNLAB_CHECK("loss-ce", "dloss/dz = scale (softmax(z) - onehot(y)), against central differences") {
  const arma::vec z = 2 * rnd(4, 43);
  arma::vec a(4);
  act::softmax_col(z.memptr(), a.memptr(), 4);
  const arma::vec onehot = {0, 0, 1, 0}, prob = {0.1, 0.2, 0.6, 0.1}, twice = {0, 2, 0, 0};
  for (const auto& [y, what] : {std::pair{onehot, "one-hot y = e_3"}, std::pair{prob, "y a probability vector"}}) {
    const arma::vec got = loss_grad(Loss::ce, a, y, kScale);
    ex::expect_close("dloss/dz", got, kScale * loss_fd(Loss::ce, z, y), 1e-9, 1e-12, std::string(" for ") + what,
                     {scale_missing()}, {{kScale * (-y / a), "that is dloss/da = -y/a; ce is fused with its softmax: "
                                                             "the gradient asked is dloss/dz = softmax(z) - y"}});
  }
  const arma::vec got = loss_grad(Loss::ce, a, twice, kScale);
  ex::expect_close("dloss/dz", got, kScale * loss_fd(Loss::ce, z, twice), 1e-9, 1e-12,
                   " for y = (0, 2, 0, 0), whose entries sum to 2", {scale_missing()},
                   {{kScale * (a - twice), "a - y holds when y sums to 1; in general dloss/dz_k = a_k sum_j y_j - y_k"}});
}

NNLAB_CHECK("loss-hinge", "dloss/da = -scale y where 1 - y a > 0, else 0 (0 at the kink 1 - y a = 0)") {
  const arma::vec a = {0.3, -2.0, 1.5, 0.2, -0.5, 1.0, -1.0};
  const arma::vec y = {1, 1, 1, -1, -1, 1, -1};  // active, active, inactive, active, inactive, kink, kink
  const arma::vec got = loss_grad(Loss::hinge, a, y, kScale);
  arma::vec want(7);
  for (int k = 0; k < 7; ++k) want[k] = 1 - y[k] * a[k] > 0 ? -kScale * y[k] : 0;
  for (int k : {0, 1, 2, 3, 4}) {  // away from the kinks: central differences
    const arma::vec num = kScale * loss_fd(Loss::hinge, a, y);
    ex::expect_close("dloss/da", got[k], num[k], 1e-9, 1e-12, " at entry " + std::to_string(k) + " (a = " +
                     ex::num(a[k]) + ", y = " + ex::num(y[k]) + ")", {scale_missing()},
                     {{arma::mat{kScale * y[k]}, "the sign: d/da (1 - y a) = -y"},
                      {arma::mat{-kScale * y[k]}, "the hinge is inactive here (1 - y a <= 0): its gradient is 0"}});
  }
  ex::expect_close("dloss/da at the kink 1 - y a = 0", arma::vec(got.tail(2)), arma::vec(want.tail(2)), 0, 0, "", {},
                   {{arma::mat(-kScale * y.tail(2)), "at 1 - y a = 0 the gradient is 0 (relu'(0) = 0, PyTorch's "
                                                     "hinge): test 1 - y a > 0"}});
}

NNLAB_CHECK("reg-l1-l2", "dW += l1 sign(W) + 2 l2 W, sign(0) = 0, against central differences of the penalty") {
  arma::mat W = {{0.5, -1.25, 0.0}, {2.0, 0.0, -0.1}};
  const arma::mat D = {{0.1, 0.2, 0.3}, {-0.4, 0.5, -0.6}};  // the loss's gradient already in dW
  const double l1 = 0.3, l2 = 0.05;
  arma::mat dW = D;
  add_regularization_grad(l1, l2, W, dW);
  const arma::mat want = D + l1 * arma::sign(W) + 2 * l2 * W;
  const arma::mat pen = l1 * arma::sign(W) + 2 * l2 * W;
  ex::expect_close("dW", dW, want, 1e-15, 1e-15, " (l1 = 0.3, l2 = 0.05)", {},
                   {{D, "nothing was added to dW"},
                    {pen, "dW was overwritten: the penalty's gradient is added to the loss's gradient already in dW"},
                    {D + l1 * arma::sign(W) + l2 * W, "l2 W: the derivative of l2 w^2 is 2 l2 w"},
                    {D + 2 * l2 * W, "the l1 term l1 sign(W) is missing"},
                    {D + l1 * arma::sign(W), "the l2 term 2 l2 W is missing"}});
  // Away from w = 0, against central differences of l1 |w| + l2 w^2.
  for (arma::uword i = 0; i < W.n_elem; ++i) {
    if (W[i] == 0) continue;
    const double num = fd([&](double v) { return l1 * std::abs(v) + l2 * v * v; }, W[i]);
    ex::expect_close("dW - (the loss's gradient)", dW[i] - D[i], num, 1e-9, 1e-12, ex::at("w", W[i]));
  }
}
