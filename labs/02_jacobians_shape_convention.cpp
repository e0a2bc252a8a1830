// Lab 02 -- The Jacobians of the lecture, built entry by entry by finite differences and
// compared with their formulas; then the 1 x nm Jacobian of s with respect to W next to
// its reshaping into the n x m gradient of the shape convention, (u o f'(z)) x'.
//
// Letters: n = rows of W (neurons), m = columns of W (inputs).
#include "nnlab/core/shape.hpp"
#include "nnlab/core/activations.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <functional>

using namespace nnlab;

namespace {
// Jacobian of F: R^k -> R^r at p by 4th-order central differences, J(i,j) = dF_i/dp_j.
arma::mat fd_jacobian(const std::function<arma::vec(const arma::vec&)>& F, const arma::vec& p) {
  const arma::uword r = F(p).n_elem;
  arma::mat J(r, p.n_elem);
  for (arma::uword j = 0; j < p.n_elem; ++j)
    for (arma::uword i = 0; i < r; ++i)
      J(i, j) = fd_central([&](double v) { arma::vec q = p; q[j] = v; return F(q)[i]; }, p[j], 1e-3, 4);
  return J;
}
}  // namespace

int main() {
  lab::Sheet s("02_jacobians_shape_convention", "Jacobians and the shape convention");
  const arma::uword n = 3, m = 2;
  arma::arma_rng::set_seed(2);  // the lab's data: seed 2
  const arma::mat W = arma::randn(n, m);
  const arma::vec b = arma::randn(n), x = arma::randn(m), u = arma::randn(n);
  const Activation f = Activation::sigmoid;
  auto fvec = [f](const arma::vec& z) { arma::mat A; activate(f, arma::mat(z), A); return arma::vec(A); };
  const arma::vec z = W * x + b, R = fvec(z);
  const arma::vec fp = arma::vec(activation_derivative(f, arma::mat(z)));
  const double tol = 1e-9;

  s.section("1. Elementwise: R = f(z)  =>  dR/dz = diag(f'(z))   (n x n)");
  const arma::mat J1 = fd_jacobian(fvec, z);
  s.show("dR/dz by finite differences", J1);
  s.show("diag(f'(z))", arma::mat(arma::diagmat(fp)));
  s.check("dR/dz = diag(f'(z)): off-diagonal entries vanish, diagonal is f'", arma::norm(J1 - arma::diagmat(fp), "inf") <= tol);

  s.section("2. d(Wx + b)/dx = W   (n x m)   and   d(Wx + b)/db = I   (n x n)");
  const arma::mat Jx = fd_jacobian([&](const arma::vec& xx) { return arma::vec(W * xx + b); }, x);
  const arma::mat Jb = fd_jacobian([&](const arma::vec& bb) { return arma::vec(W * x + bb); }, b);
  s.show("d(Wx+b)/dx by FD", Jx);
  s.check("d(Wx+b)/dx = W", arma::norm(Jx - W, "inf") <= tol);
  s.check("d(Wx+b)/db = I", arma::norm(Jb - arma::eye(n, n), "inf") <= tol);

  s.section("3. v = u'R  =>  dv/du = R'   (1 x n)   and   dv/dR = u'");
  const arma::mat Ju = fd_jacobian([&](const arma::vec& uu) { return arma::vec{arma::dot(uu, R)}; }, u);
  s.show("dv/du by FD", Ju);
  s.show("R'", arma::mat(R.t()));
  s.check("dv/du = R'", arma::norm(Ju - R.t(), "inf") <= tol);

  s.section("4. The chain rule in Jacobian form: ds/db = u' diag(f'(z)) I   (1 x n)");
  const arma::mat chain_b = u.t() * arma::diagmat(fp);
  const arma::mat Jsb = fd_jacobian([&](const arma::vec& bb) { return arma::vec{arma::dot(u, fvec(W * x + bb))}; }, b);
  s.show("u' diag(f'(z))", chain_b);
  s.check("equals ds/db by FD", arma::norm(Jsb - chain_b, "inf") <= tol);
  s.say("The shape convention wants a gradient shaped like b (a column): (ds/db)' = u o f'(z).");

  s.section("5. ds/dW: a 1 x nm Jacobian, reshaped to the n x m shape of W");
  s.say("Flatten W row by row, w = (w11, w12, w21, ...).  ds/dw is then one row of nm numbers:");
  auto s_of_w = [&](const arma::vec& w) {
    const arma::mat Wm = arma::reshape(w, m, n).t();  // row-major vector -> n x m
    return arma::vec{arma::dot(u, fvec(Wm * x + b))};
  };
  const arma::vec wflat = arma::vectorise(W.t());  // row by row
  const arma::mat JW = fd_jacobian(s_of_w, wflat);
  s.show("ds/dw (1 x nm)", JW);
  const arma::vec S = u % fp;              // S' = (u' diag f'(z))' : n x 1
  const arma::mat G = S * x.t();           // n x 1 times 1 x m = n x m
  s.show("(u o f'(z)) x'   (n x m, the shape convention)", G);
  const arma::mat JWshaped = to_shape(JW, n, m);  // nnlab/core/shape.hpp
  s.show("the 1 x nm row reshaped to n x m (to_shape)", JWshaped);
  s.check("reshaping the Jacobian gives (u o f'(z)) x'", arma::norm(JWshaped - G, "inf") <= tol);
  s.say("Why the transposes: dz_i/dw_ij = x_j, so ds/dw_ij = S_i x_j with S = u' diag(f'(z)) a\n"
        "1 x n row.  Arranging ds/dw_ij at (i, j) is the outer product of S' (n x 1) with\n"
        "x' (1 x m): the transposes put the row S into a column and the column x into a row.");
  s.check("entry (2, 1) by hand: S_2 x_1", std::abs(G(1, 0) - S[1] * x[0]) <= 1e-15);

  plot::write_table(s.id(), "jacobian_W.csv", {"index", "dsdw_fd", "shape_convention"},
                    {arma::regspace(1, double(n * m)), arma::vec(JW.t()), arma::vectorise(G.t())});
  return s.finish();
}
