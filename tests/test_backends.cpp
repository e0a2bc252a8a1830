// The three hand-written backends (and the graph backend) against finite differences,
// against each other, across thread counts, and in float.
#include "helpers.hpp"
#include "nnlab/backends/openmp.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/optim.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace nnlab;
using test::make_case;

namespace {
const std::size_t kBatches[] = {1, 3, 8, 64};
}

TEST_CASE("every backend matches central FD over all activations, losses, depths 1-6, batches, l1/l2",
          "[backends][fd]") {
  std::size_t idx = 0, kink_entries = 0, entries = 0;
  for (Activation a : kAllActivations)
    for (Loss loss : kAllLosses) {
      ++idx;
      const std::size_t depth = 1 + idx % 6, m = kBatches[idx % 4];
      const double l1 = idx % 3 == 1 ? 0.01 : 0, l2 = idx % 3 == 2 ? 0.02 : 0;
      auto c = make_case(idx, depth, a, loss, m, l1, l2);
      for (BackendKind k : kAllBackends) {
        auto be = make_backend<double>(k, 2);
        FdOptions o;
        o.check_input = true;
        const auto r = check_fd(*be, c.net, c.X, c.Y, o);
        INFO(name(a) << " / " << name(loss) << " depth " << depth << " m " << m << " l1 " << l1 << " l2 " << l2
                     << " backend " << name(k));
        for (const auto& b : r.blocks) {
          INFO(b.name << ": max rel " << b.max_rel << " (" << b.analytic << " vs " << b.numeric << "), "
                      << b.n_kink << "/" << b.n << " at kinks, verdict " << b.verdict);
          REQUIRE((b.passed || b.verdict == "kink-only"));
          kink_entries += b.n_kink;
          entries += b.n;
        }
      }
    }
  // Kinks are left out, but they must stay rare or the check says little.
  REQUIRE(double(kink_entries) < 0.05 * double(entries));
}

TEST_CASE("smooth networks: FD relative error <= 1e-7 on every block, nothing left out", "[backends][fd]") {
  for (Activation a : {Activation::tanh, Activation::sigmoid, Activation::gelu, Activation::softplus,
                       Activation::atan, Activation::tanhshrink, Activation::logsigmoid, Activation::identity}) {
    for (Loss loss : kAllLosses) {
      auto c = make_case(100 + std::size_t(a) * 4 + std::size_t(loss), 3, a, loss, 16, 0, 0.01);
      auto be = make_backend<double>(BackendKind::naive);
      const auto r = check_fd(*be, c.net, c.X, c.Y);
      INFO(name(a) << " / " << name(loss));
      REQUIRE(r.passed);
      for (const auto& b : r.blocks) {
        REQUIRE(b.max_rel <= kFdRelTol);
        REQUIRE(b.n_kink == 0);
      }
    }
  }
}

TEST_CASE("backends agree with the naive reference to 1e-12 relative", "[backends]") {
  std::size_t idx = 0;
  for (std::size_t depth = 1; depth <= 6; ++depth)
    for (Activation a : kAllActivations)
      for (Loss loss : kAllLosses) {
        ++idx;
        auto c = make_case(5000 + idx, depth, a, loss, kBatches[idx % 4] + depth, idx % 2 ? 0.01 : 0,
                           idx % 3 ? 0.02 : 0);
        auto ref = make_backend<double>(BackendKind::naive);
        for (BackendKind k : {BackendKind::matrix, BackendKind::openmp, BackendKind::graph}) {
          auto be = make_backend<double>(k, 3);
          const auto r = compare_backends(*be, *ref, c.net, c.X, c.Y);
          INFO(name(k) << " " << name(a) << " " << name(loss) << " depth " << depth);
          for (const auto& b : r.blocks) {
            INFO(b.name << " rel " << b.max_rel);
            REQUIRE(b.max_rel <= kBackendRelTol);
          }
        }
      }
}

TEST_CASE("openmp: bit-identical results for 1, 2, 3 and 8 threads", "[backends][openmp][threads]") {
  for (Loss loss : kAllLosses) {
    auto c = make_case(77 + std::size_t(loss), 4, Activation::gelu, loss, 67, 0.01, 0.01);
    // Wider layers so every thread gets work.
    c.net = random_network<double>({9, 40, 33, 17, c.net.n_out()},
                                   {Activation::tanh, Activation::relu, Activation::elu, c.net.layers.back().act},
                                   loss, 9, 0.5, 0.01, 0.01);
    c.X = arma::randn(9, 67);
    Grads<double> g1;
    Cache<double> c1;
    auto be1 = make_backend<double>(BackendKind::openmp, 1);
    const double J1 = be1->value_and_grad(c.net, c.X, c.Y, c1, g1, true);
    for (int t : {2, 3, 8}) {
      auto be = make_backend<double>(BackendKind::openmp, t);
      Grads<double> g;
      Cache<double> cc;
      const double J = be->value_and_grad(c.net, c.X, c.Y, cc, g, true);
      INFO(t << " threads, loss " << name(loss));
      REQUIRE(J == J1);  // bitwise
      for (std::size_t l = 0; l < g.dW.size(); ++l) {
        REQUIRE(arma::approx_equal(g.dW[l], g1.dW[l], "absdiff", 0.0));
        REQUIRE(arma::approx_equal(g.db[l], g1.db[l], "absdiff", 0.0));
      }
      REQUIRE(arma::approx_equal(g.dX, g1.dX, "absdiff", 0.0));
    }
  }
}

// The two schedules of the openmp backend compute the same chunked sums: same bits as each
// other, for the given thread counts, in float and double, with batches below one chunk (m = 5),
// of several chunks with a short last one (67 = 2 x 32 + 3) and wide enough for several tile
// strips; value_and_grad against forward + cost + backward called one by one.  dX included
// (sharded_backward is the mpi tests' business).
template <class T> void check_schedules(std::initializer_list<int> thread_counts) {
  for (std::size_t m : {5, 67, 130}) {
    const auto net = random_network<double>({9, 40, 33, 17, 3},
                                            {Activation::tanh, Activation::relu, Activation::elu, Activation::softmax},
                                            Loss::ce, 11 + m, 0.5, 0.01, 0.01).cast<T>();
    const arma::Mat<T> X = arma::randn<arma::Mat<T>>(9, m);
    arma::Mat<T> Y(3, m, arma::fill::zeros);
    for (arma::uword t = 0; t < m; ++t) Y(t % 3, t) = 1;
    Grads<T> g1;
    Cache<T> c1;
    const T J1 = make_openmp_backend<T>(1, OpenmpSchedule::tiles)->value_and_grad(net, X, Y, c1, g1, true);
    // every backend kept alive: a freed workspace must not hand its numbers to the next one
    std::vector<std::unique_ptr<Backend<T>>> keep;
    for (OpenmpSchedule s : {OpenmpSchedule::samples, OpenmpSchedule::automatic, OpenmpSchedule::tiles})
      for (int t : thread_counts) {
        Grads<T> g;
        Cache<T> c;
        keep.push_back(make_openmp_backend<T>(t, s));
        const T J = keep.back()->value_and_grad(net, X, Y, c, g, true);
        INFO("m = " << m << ", schedule " << int(s) << ", " << t << " threads");
        REQUIRE(J == J1);  // bitwise
        for (std::size_t l = 0; l < g.dW.size(); ++l) {
          REQUIRE(arma::approx_equal(g.dW[l], g1.dW[l], "absdiff", T(0)));
          REQUIRE(arma::approx_equal(g.db[l], g1.db[l], "absdiff", T(0)));
          REQUIRE(arma::approx_equal(c.A[l], c1.A[l], "absdiff", T(0)));
        }
        REQUIRE(arma::approx_equal(g.dX, g1.dX, "absdiff", T(0)));
        // value_and_grad (one parallel region in the samples schedule) = the three calls
        Grads<T> g3;
        Cache<T> c3;
        keep.back()->forward(net, X, c3);
        REQUIRE(keep.back()->cost(net, Y, c3) == J1);
        keep.back()->backward(net, X, Y, c3, g3, true);
        for (std::size_t l = 0; l < g.dW.size(); ++l) {
          REQUIRE(arma::approx_equal(g3.dW[l], g1.dW[l], "absdiff", T(0)));
          REQUIRE(arma::approx_equal(g3.db[l], g1.db[l], "absdiff", T(0)));
        }
        REQUIRE(arma::approx_equal(g3.dX, g1.dX, "absdiff", T(0)));
      }
    // and the sums are the naive backend's, to rounding (chunked sums and fma change the last bits)
    Grads<T> gn;
    Cache<T> cn;
    make_backend<T>(BackendKind::naive)->value_and_grad(net, X, Y, cn, gn, true);
    for (std::size_t l = 0; l < gn.dW.size(); ++l)
      REQUIRE(arma::norm(g1.dW[l] - gn.dW[l], "inf") <= (std::is_same_v<T, float> ? 1e-5 : 1e-13) * arma::norm(gn.dW[l], "inf"));
  }
}
TEMPLATE_TEST_CASE("openmp: the tiles and samples schedules give the same bits", "[backends][openmp]", float,
                   double) {
  check_schedules<TestType>({1});
}
TEMPLATE_TEST_CASE("openmp: the tiles and samples schedules give the same bits on 2, 3 and 8 threads",
                   "[backends][openmp][threads]", float, double) {
  check_schedules<TestType>({2, 3, 8});
}

// openmp's in-pass SGD updates the parameters inside its parallel region (tiles: after a layer's
// dA = W' dZ and dW, each thread a range of W; samples: each thread the range it summed): the same bits as
// value_and_grad + optim::Sgd on one thread, for both schedules and the given threads, with
// batches that make the region run on several threads (m = 130: ~3e5 fmas, above the
// parallel threshold) and below it.  Two steps in a row: the second starts from the first's
// updated weights and reused workspaces.
template <class T> void check_in_pass_sgd(std::initializer_list<int> thread_counts) {
  const T lr = T(0.05);
  for (std::size_t m : {5, 67, 130}) {
    const auto net0 = random_network<double>({9, 40, 33, 17, 3},
                                             {Activation::tanh, Activation::relu, Activation::elu, Activation::softmax},
                                             Loss::ce, 21 + m, 0.5).cast<T>();
    const arma::Mat<T> X = arma::randn<arma::Mat<T>>(9, m);
    arma::Mat<T> Y(3, m, arma::fill::zeros);
    for (arma::uword t = 0; t < m; ++t) Y(t % 3, t) = 1;
    Network<T> ref = net0;
    Grads<T> gr;
    Cache<T> cr;
    auto be1 = make_openmp_backend<T>(1, OpenmpSchedule::tiles);
    T Jr[2];
    for (T& J : Jr) {
      J = be1->value_and_grad(ref, X, Y, cr, gr, true);
      optim::Sgd<T>(lr).update(ref, gr);
    }
    for (OpenmpSchedule s : {OpenmpSchedule::samples, OpenmpSchedule::tiles})
      for (int t : thread_counts) {
        auto be = make_openmp_backend<T>(t, s);
        Network<T> net = net0;
        Grads<T> g;
        Cache<T> c;
        INFO("m = " << m << ", schedule " << int(s) << ", " << t << " threads");
        const InPassSgd<T> sgd{&net, lr};
        for (T J : Jr) REQUIRE(be->value_and_grad(net, X, Y, c, g, true, &sgd) == J);  // bitwise
        for (std::size_t l = 0; l < net.depth(); ++l) {
          INFO("layer " << l);
          REQUIRE(arma::approx_equal(net.layers[l].W, ref.layers[l].W, "absdiff", T(0)));
          REQUIRE(arma::approx_equal(net.layers[l].b, ref.layers[l].b, "absdiff", T(0)));
          REQUIRE(arma::approx_equal(g.dW[l], gr.dW[l], "absdiff", T(0)));  // dW and db still filled
          REQUIRE(arma::approx_equal(g.db[l], gr.db[l], "absdiff", T(0)));
        }
        REQUIRE(arma::approx_equal(g.dX, gr.dX, "absdiff", T(0)));
        REQUIRE(arma::norm(net.layers[0].W - net0.layers[0].W, "inf") > 0);  // it did move
      }
  }
}
TEMPLATE_TEST_CASE("openmp: the in-pass SGD update gives value_and_grad + Sgd's bits", "[backends][openmp][sgd]",
                   float, double) {
  check_in_pass_sgd<TestType>({1});
}
TEMPLATE_TEST_CASE("openmp: the in-pass SGD update gives value_and_grad + Sgd's bits on 2 and 3 threads",
                   "[backends][openmp][sgd][threads]", float, double) {
  check_in_pass_sgd<TestType>({2, 3});
}

// The openmp backend's determinism contract (lib/nnlab/backends/openmp_kernel.hpp, "Determinism"),
// element by element against a plain loop: Z(i, t) = b(i), then fma(W(i, p), A(p, t), .) for
// p = 0, 1, ...; dW(i, p) and db(i) summed over the samples in chunks of 64, the first chunk's
// chain from 0 straight into the sum, each later one from 0 and then added (fma for dW, + for
// db).  Layers of 5, 16 and 40 rows: one-vector tiles (5, and 16 in float), two-vector tiles
// and edge tiles; both schedules; 1 and 2 threads; m = 150: three chunks, the last short.
TEMPLATE_TEST_CASE("openmp: each Z, dW and db element is the documented fma chain, whatever the tile size",
                   "[backends][openmp]", float, double) {
  using T = TestType;
  const arma::uword m = 150, G = 64;
  const auto net = random_network<double>({7, 16, 40, 5}, {Activation::tanh, Activation::relu, Activation::identity},
                                          Loss::mse, 41, 0.5).cast<T>();
  const arma::Mat<T> X = arma::randn<arma::Mat<T>>(7, m), Y = arma::randn<arma::Mat<T>>(5, m);
  for (OpenmpSchedule s : {OpenmpSchedule::tiles, OpenmpSchedule::samples})
    for (int threads : {1, 2}) {
      Grads<T> g;
      Cache<T> c;
      make_openmp_backend<T>(threads, s)->value_and_grad(net, X, Y, c, g, false);
      for (std::size_t l = 0; l < net.depth(); ++l) {
        const auto& W = net.layers[l].W;
        const arma::Mat<T>& Ain = l == 0 ? X : c.A[l - 1];
        const arma::Mat<T>& dZ = c.dZ[l];
        arma::uword bad_z = 0, bad_dw = 0, bad_db = 0;
        for (arma::uword i = 0; i < W.n_rows; ++i) {
          for (arma::uword t = 0; t < m; ++t) {
            T z = net.layers[l].b(i);
            for (arma::uword p = 0; p < W.n_cols; ++p) z = std::fma(W(i, p), Ain(p, t), z);
            bad_z += z != c.Z[l](i, t);
          }
          for (arma::uword p = 0; p < W.n_cols; ++p) {
            T sum = 0;
            for (arma::uword t0 = 0; t0 < m; t0 += G) {
              T part = 0;
              for (arma::uword t = t0; t < std::min(m, t0 + G); ++t) part = std::fma(dZ(i, t), Ain(p, t), part);
              sum = t0 == 0 ? part : sum + part;
            }
            bad_dw += sum != g.dW[l](i, p);
          }
          T sum = 0;
          for (arma::uword t0 = 0; t0 < m; t0 += G) {
            T part = 0;
            for (arma::uword t = t0; t < std::min(m, t0 + G); ++t) part += dZ(i, t);
            sum = t0 == 0 ? part : sum + part;
          }
          bad_db += sum != g.db[l](i);
        }
        INFO("schedule " << int(s) << ", " << threads << " threads, layer " << l << " (" << W.n_rows << " rows)");
        CHECK(bad_z == 0);
        CHECK(bad_dw == 0);
        CHECK(bad_db == 0);
      }
    }
}

TEST_CASE("float instantiation agrees with double within the float tolerance", "[backends][float]") {
  for (Loss loss : kAllLosses) {
    auto c = make_case(300 + std::size_t(loss), 4, Activation::tanh, loss, 32, 0, 0.01);
    auto netf = c.net.cast<float>();
    arma::fmat Xf = arma::conv_to<arma::fmat>::from(c.X), Yf = arma::conv_to<arma::fmat>::from(c.Y);
    Grads<double> gd;
    Cache<double> cd;
    const double Jd = make_backend<double>(BackendKind::naive)->value_and_grad(c.net, c.X, c.Y, cd, gd);
    for (BackendKind k : kAllBackends) {
      Grads<float> gf;
      Cache<float> cf;
      const float Jf = make_backend<float>(k, 2)->value_and_grad(netf, Xf, Yf, cf, gf);
      INFO(name(k) << " " << name(loss));
      REQUIRE(std::abs(Jf - Jd) <= kFloatRelTol * std::abs(Jd));
      for (std::size_t l = 0; l < gd.dW.size(); ++l) {
        REQUIRE(rel_diff(arma::mat(arma::conv_to<arma::mat>::from(gf.dW[l])), gd.dW[l]) <= kFloatRelTol);
        REQUIRE(rel_diff(arma::mat(arma::conv_to<arma::mat>::from(gf.db[l])), arma::mat(gd.db[l])) <= kFloatRelTol);
      }
    }
  }
}

TEST_CASE("vjp gives per-sample Jacobian rows that match finite differences", "[backends][vjp]") {
  auto c = make_case(11, 3, Activation::sigmoid, Loss::mse, 5);
  const arma::uword nL = c.net.n_out();
  for (BackendKind k : kAllBackends) {
    auto be = make_backend<double>(k, 2);
    Cache<double> cache;
    Grads<double> g;
    const arma::uword t = 3, out = nL - 1;  // sample 3, last output
    be->forward(c.net, c.X.col(t), cache);
    arma::mat v(nL, 1, arma::fill::zeros);
    v(out, 0) = 1;
    be->vjp(c.net, c.X.col(t), v, cache, g, true);
    const arma::vec row = g.flatten();
    const arma::vec theta = flatten_params(c.net);
    Network<double> p = c.net;
    for (arma::uword i = 0; i < theta.n_elem; ++i) {
      auto f = [&](double x) {
        arma::vec th = theta;
        th[i] = x;
        set_params(p, th);
        Cache<double> cc;
        be->forward(p, c.X.col(t), cc);
        return cc.A.back()(out, 0);
      };
      INFO(name(k) << " parameter " << i);
      REQUIRE(row[i] == Approx(fd_central(f, theta[i], 1e-3, 4)).epsilon(1e-8).margin(1e-12));
    }
  }
}

TEST_CASE("the workspace is reused: same sizes, same buffers", "[backends]") {
  auto c = make_case(5, 3, Activation::relu, Loss::mse, 16);
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> cache;
  Grads<double> g;
  be->value_and_grad(c.net, c.X, c.Y, cache, g);
  const double* z0 = cache.Z[0].memptr();
  const double* w0 = g.dW[0].memptr();
  be->value_and_grad(c.net, c.X, c.Y, cache, g);
  REQUIRE(cache.Z[0].memptr() == z0);
  REQUIRE(g.dW[0].memptr() == w0);
}

// value_and_grad with InPassSgd against value_and_grad + optim::Sgd's update.  Every backend but
// matrix gives the same bits.  matrix (no l1/l2 terms) folds W <- W - lr dZ A' into one gemm and
// never forms dW: the same cost, dX, db and biases bit for bit (they come before the update or do
// not involve it), and the weights within the rounding of the two computations of
// S = dZ A' (a sum of m products each: gamma_m = m u times sum |dZ||A|, for each of the two)
// and of the update (a few u times |W| + lr |S|).
TEMPLATE_TEST_CASE("in-pass SGD: value_and_grad + the SGD update; matrix folds the update into its gemm",
                   "[backends][sgd]", float, double) {
  using T = TestType;
  const T u = std::numeric_limits<T>::epsilon() / 2, lr = T(0.1);
  arma::arma_rng::set_seed(11);
  for (double l2 : {0.0, 0.01})
    for (std::size_t m : {1, 5, 67}) {
      const auto net0 = random_network<T>({7, 20, 13, 3}, {Activation::relu, Activation::tanh, Activation::identity},
                                          Loss::mse, 5, 0.8, 0, l2);
      const arma::Mat<T> X = arma::randn<arma::Mat<T>>(7, m), Y = arma::randn<arma::Mat<T>>(3, m);
      for (BackendKind k : {BackendKind::naive, BackendKind::matrix, BackendKind::openmp, BackendKind::graph}) {
        auto be = make_backend<T>(k, 2);
        Network<T> ref = net0;
        Cache<T> cr;
        Grads<T> gr;
        const T Jr = be->value_and_grad(ref, X, Y, cr, gr, true);
        optim::Sgd<T>(lr).update(ref, gr);

        Network<T> net = net0;
        Cache<T> c;
        Grads<T> g;
        const arma::Mat<T> sentinel(2, 2, arma::fill::value(T(7)));
        g.dW.assign(net.depth(), sentinel);
        const InPassSgd<T> sgd{&net, lr};
        const T J = be->value_and_grad(net, X, Y, c, g, true, &sgd);
        const bool fused = k == BackendKind::matrix && l2 == 0;
        INFO(name(k) << ", m " << m << ", l2 " << l2);
        REQUIRE(J == Jr);
        REQUIRE(arma::approx_equal(g.dX, gr.dX, "absdiff", T(0)));
        for (std::size_t l = 0; l < net.depth(); ++l) {
          INFO("layer " << l);
          REQUIRE(arma::approx_equal(g.db[l], gr.db[l], "absdiff", T(0)));
          REQUIRE(arma::approx_equal(net.layers[l].b, ref.layers[l].b, "absdiff", T(0)));
          if (!fused) {
            REQUIRE(arma::approx_equal(g.dW[l], gr.dW[l], "absdiff", T(0)));
            REQUIRE(arma::approx_equal(net.layers[l].W, ref.layers[l].W, "absdiff", T(0)));
            continue;
          }
          CHECK(arma::approx_equal(g.dW[l], sentinel, "absdiff", T(0)));  // dW never formed
          const arma::Mat<T>& Ain = l == 0 ? X : c.A[l - 1];
          const arma::Mat<T> bound =
              T(2 * m + 8) * u * (arma::abs(net0.layers[l].W) + lr * (arma::abs(c.dZ[l]) * arma::abs(Ain).t()));
          const arma::Mat<T> err = arma::abs(net.layers[l].W - ref.layers[l].W);
          CHECK(arma::all(arma::vectorise(err <= bound)));
          // and the step did move the weights, by about lr dW
          CHECK(arma::norm(net.layers[l].W - net0.layers[l].W, "inf") >= T(0.5) * lr * arma::norm(gr.dW[l], "inf"));
        }
      }
    }
}
