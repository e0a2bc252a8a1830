// Lab 08 -- Gradient checking: how finite differences fail (truncation against round-off),
// how the complex step does not, what a kink does, and gradcheck on every backend.
//
// Writes results/08_gradient_checking/fd_error.csv and renders fd_error.png.
#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cmath>
#include <cstdio>

using namespace nnlab;

int main() {
  lab::Sheet s("08_gradient_checking", "Gradient checking: finite differences, complex step, kinks");

  s.section("1. The test function: the cost of a small network as a function of one weight");
  // 3-4-2 network, tanh then identity, mse, seed 8 (data drawn with the same seed).
  Network<double> net = random_network<double>({3, 4, 2}, {Activation::tanh, Activation::identity},
                                               Loss::mse, 8, 0.9);
  arma::arma_rng::set_seed(8);
  const arma::mat X = arma::randn(3, 5), Y = arma::randn(2, 5);
  auto be = make_backend<double>(BackendKind::naive);
  Cache<double> cache;
  Grads<double> g;
  const double J0 = be->value_and_grad(net, X, Y, cache, g);
  const double w0 = net.layers[0].W(1, 2), exact = g.dW[0](1, 2);
  auto J = [&](double w) {
    Network<double> p = net;
    p.layers[0].W(1, 2) = w;
    Cache<double> c;
    return be->value(p, X, Y, c);
  };
  auto cnet = net.cast<std::complex<double>>();
  const arma::cx_mat cX = arma::conv_to<arma::cx_mat>::from(X), cY = arma::conv_to<arma::cx_mat>::from(Y);
  auto Jc = [&](std::complex<double> w) {
    auto p = cnet;
    p.layers[0].W(1, 2) = w;
    return naive_cost_complex(p, cX, cY);
  };
  s.show("J(w)", J0);
  s.show("w = W1(2,3)", w0);
  s.show("dJ/dw by backpropagation", exact);

  s.section("2. Error against the step h: the V-shaped curve");
  s.say("forward   (J(w+h) - J(w))/h            error ~ h |J''|/2 + 2 eps |J|/h,  best h ~ sqrt(eps)\n"
        "central   (J(w+h) - J(w-h))/2h         error ~ h^2 |J'''|/6 + eps |J|/h, best h ~ eps^(1/3)\n"
        "central4  (-J(+2h) + 8J(+h) - 8J(-h) + J(-2h))/12h    error ~ h^4 + eps/h, best h ~ eps^(1/5)\n"
        "complex   Im J(w + ih)/h                error ~ h^2 |J'''|/6 and no round-off term (nothing is\n"
        "                                        subtracted), so h can be as small as we like: 1e-20");
  arma::vec hs = arma::logspace(-1, -12, 45), ef(45), ec(45), e4(45), ecs(45);
  for (arma::uword i = 0; i < hs.n_elem; ++i) {
    const double h = hs[i];
    ef[i] = std::abs(fd_forward(J, w0, h) - exact) / std::abs(exact);
    ec[i] = std::abs(fd_central(J, w0, h, 2) - exact) / std::abs(exact);
    e4[i] = std::abs(fd_central(J, w0, h, 4) - exact) / std::abs(exact);
    ecs[i] = std::abs(Jc({w0, h}).imag() / h - exact) / std::abs(exact);
    ef[i] = std::max(ef[i], 1e-17); ec[i] = std::max(ec[i], 1e-17);  // log scale: exact hits shown at 1e-17
    e4[i] = std::max(e4[i], 1e-17); ecs[i] = std::max(ecs[i], 1e-17);
  }
  std::printf("  %10s %12s %12s %12s %12s\n", "h", "forward", "central", "central4", "complex");
  for (arma::uword i = 0; i < hs.n_elem; i += 4)
    std::printf("  %10.1e %12.2e %12.2e %12.2e %12.2e\n", hs[i], ef[i], ec[i], e4[i], ecs[i]);
  const arma::uword bf = ef.index_min(), bc = ec.index_min(), b4 = e4.index_min();
  s.show("best forward  h (sqrt(eps) = 1.5e-8)", hs[bf]);
  s.show("best forward  relative error", ef[bf]);
  s.show("best central  h (eps^(1/3) = 6.1e-6)", hs[bc]);
  s.show("best central  relative error", ec[bc]);
  s.show("best central4 h (eps^(1/5) = 7.4e-4)", hs[b4]);
  s.show("best central4 relative error", e4[b4]);
  s.check("forward differences bottom out near sqrt(eps): best h within [1e-10, 1e-6]", hs[bf] >= 1e-10 && hs[bf] <= 1e-6);
  s.check("central differences bottom out near eps^(1/3): best h within [1e-7, 1e-4]", hs[bc] >= 1e-7 && hs[bc] <= 1e-4);
  s.check("the best central error beats the best forward error", ec[bc] < ef[bf]);
  s.check("at h = 1e-12 round-off dominates: central error > 1e-6", ec[hs.n_elem - 1] > 1e-6);
  s.check("complex step: error falls as h^2 (h = 1e-2 -> 1e-3: 100x)", ecs[8] / ecs[12] > 80 && ecs[8] / ecs[12] < 120);
  s.check("complex step is exact to 1e-14 for every h <= 1e-8",
          arma::all(ecs.elem(arma::find(hs <= 1.01e-8)) <= 1e-14));
  s.check_close("complex step at h = 1e-20", Jc({w0, 1e-20}).imag() / 1e-20, exact, 1e-14);
  s.wrote(plot::write_table(s.id(), "fd_error.csv", {"h", "forward", "central", "central4", "complex"},
                            {hs, ef, ec, e4, ecs}));
  s.wrote(plot::render(s.id(), "fd_error"));

  s.section("3. A kink: relu at x = 1e-6");
  s.say("relu'(x) = 1 for x > 0.  A central difference with h = 1e-3 straddles 0 and measures\n"
        "(relu(x+h) - relu(x-h))/2h = (x + h)/2h, about 0.5: a false alarm, not a wrong gradient.");
  auto relu = [](double x) { return x > 0 ? x : 0.0; };
  const double fd = fd_central(relu, 1e-6, 1e-3, 2);
  s.show("(relu(1e-6 + 1e-3) - relu(1e-6 - 1e-3)) / 2e-3", fd);
  s.check_close("that quotient is (x + h)/2h = 0.5005, not relu'(x) = 1", fd, 0.5005, 1e-12);
  Network<double> k;
  k.loss = Loss::mse;
  k.layers.push_back({Activation::relu, arma::mat(arma::vec{1.0, 0.5}), arma::vec{1e-6, 0.3}});
  const arma::mat kx = {{0.0, 1.0}}, ky = {{0.2, 0.1}, {0.4, 0.3}};
  const auto kr = check_fd(*be, k, kx, ky);
  std::size_t nk = 0;
  for (const auto& b : kr.blocks) nk += b.n_kink;
  s.show("entries gradcheck flagged as kinks", double(nk));
  s.check("gradcheck reports the straddled kink instead of failing", nk >= 1 && kr.passed);

  s.section("4. gradcheck on a small network, every backend");
  Network<double> small = random_network<double>({4, 5, 3, 2}, {Activation::tanh, Activation::gelu, Activation::softmax},
                                                 Loss::ce, 4, 0.8, 0.001, 0.01);
  arma::arma_rng::set_seed(4);
  const arma::mat sx = arma::randn(4, 16);
  arma::mat sy(2, 16, arma::fill::zeros);
  for (arma::uword t = 0; t < 16; ++t) sy(t % 2, t) = 1;
  std::printf("  %-8s %-6s %13s %13s  %s\n", "backend", "block", "max_abs_err", "max_rel_err", "verdict");
  bool all = true;
  for (BackendKind kind : kAllBackends) {
    auto b = make_backend<double>(kind, 2);
    const auto r = check_fd(*b, small, sx, sy);
    for (const auto& blk : r.blocks)
      std::printf("  %-8s %-6s %13.3e %13.3e  %s\n", std::string(name(kind)).c_str(), blk.name.c_str(),
                  blk.max_abs, blk.max_rel, blk.verdict.c_str());
    all = all && r.passed;
  }
  s.check("every backend agrees with central differences to 1e-7 relative", all);
  Network<double> analytic = small;  // gelu needs erf, which C++ has only for real numbers
  analytic.layers[1].act = Activation::elu;
  const auto cs = check_complex_step(analytic, sx, sy);
  double worst = 0;
  for (const auto& b : cs.blocks) worst = std::max(worst, b.max_rel);
  s.show("complex step vs naive (gelu swapped for elu: no complex erf), worst blockwise rel err", worst);
  s.check("complex step agrees to 1e-13", cs.passed);
  return s.finish();
}
