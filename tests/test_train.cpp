// Training: initialisations, every optimizer learns, the line search never increases the
// cost, determinism, checkpoint and resume bit for bit, early stopping, float training.
#include "nnlab/formats/data.hpp"
#include "nnlab/methods/train.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

using namespace nnlab;
using namespace nnlab::train;

namespace {
bool same(const Network<double>& a, const Network<double>& b) {
  for (std::size_t l = 0; l < a.depth(); ++l)
    if (!arma::approx_equal(a.layers[l].W, b.layers[l].W, "absdiff", 0.0) ||
        !arma::approx_equal(a.layers[l].b, b.layers[l].b, "absdiff", 0.0))
      return false;
  return true;
}
}  // namespace

TEST_CASE("initialisations: zeros, small, xavier bounds, he variance", "[train][init]") {
  const std::vector<Activation> a{Activation::relu, Activation::identity};
  auto z = init_network<double>({400, 300, 1}, a, Loss::mse, Init::zeros, 1);
  REQUIRE(arma::all(arma::vectorise(z.layers[0].W) == 0));
  auto s = init_network<double>({400, 300, 1}, a, Loss::mse, Init::small, 1);
  REQUIRE(arma::stddev(arma::vectorise(s.layers[0].W)) == Approx(0.01).epsilon(0.02));
  auto x = init_network<double>({400, 300, 1}, a, Loss::mse, Init::xavier, 1);
  const double bound = std::sqrt(6.0 / 700);
  REQUIRE(arma::abs(x.layers[0].W).max() <= bound);
  REQUIRE(arma::abs(x.layers[0].W).max() > 0.99 * bound);
  auto h = init_network<double>({400, 300, 1}, a, Loss::mse, Init::he, 1);
  REQUIRE(arma::var(arma::vectorise(h.layers[0].W)) == Approx(2.0 / 400).epsilon(0.02));
  REQUIRE(arma::all(h.layers[0].b == 0));
  REQUIRE(same(h, init_network<double>({400, 300, 1}, a, Loss::mse, Init::he, 1)));  // seeded
}

TEST_CASE("zero initialisation: the hidden units stay identical (the symmetry problem)", "[train][init]") {
  const auto d = data::moons(200, 0.1, 3);
  auto net = init_network<double>({2, 6, 1}, {Activation::tanh, Activation::sigmoid}, Loss::bce, Init::zeros, 1);
  Options o;
  o.optimizer = "sgd";
  o.lr = 0.5;
  o.epochs = 20;
  const auto r = run<double>(net, d.X, data::encode(d, Loss::bce, 1), o);
  const auto& W = r.model.layers[0].W;
  for (arma::uword i = 1; i < W.n_rows; ++i) REQUIRE(arma::approx_equal(W.row(i), W.row(0), "absdiff", 0.0));
}

TEST_CASE("every optimizer learns the moons; gd-linesearch never increases the cost", "[train]") {
  const auto d = data::moons(400, 0.1, 4);
  const arma::mat Y = data::encode(d, Loss::bce, 1);
  for (const char* opt : {"sgd", "momentum", "adam", "gd-linesearch"}) {
    auto net = init_network<double>({2, 16, 1}, {Activation::tanh, Activation::sigmoid}, Loss::bce, Init::xavier, 2);
    Options o;
    o.optimizer = opt;
    const std::string on = opt;
    o.epochs = on == "gd-linesearch" ? 300 : 100;
    o.lr = on == "adam" ? 0.01 : on == "sgd" ? 0.5 : on == "momentum" ? 0.05 : 0;
    o.seed = 2;
    const auto r = run<double>(net, d.X, Y, o);
    INFO(opt << ": final train loss " << r.history.back().train_loss << ", val acc " << r.history.back().val_acc);
    REQUIRE(r.history.back().train_loss < 0.5 * r.history.front().train_loss);
    REQUIRE(evaluate(r.model, d.X, Y).accuracy > 0.95);
    if (std::string(opt) == "gd-linesearch")
      for (std::size_t e = 1; e < r.history.size(); ++e) REQUIRE(r.history[e].train_loss <= r.history[e - 1].train_loss);
  }
}

TEST_CASE("the same seed gives the same model, bit for bit; float trains too", "[train]") {
  const auto d = data::spirals(300, 3, 0.2, 5);
  const arma::mat Y = data::encode(d, Loss::ce, 3);
  auto net = init_network<double>({2, 32, 3}, {Activation::relu, Activation::softmax}, Loss::ce, Init::he, 7);
  Options o;
  o.epochs = 15;
  o.lr = 0.01;
  o.seed = 7;
  const auto a = run<double>(net, d.X, Y, o), b = run<double>(net, d.X, Y, o);
  REQUIRE(same(a.model, b.model));
  const auto f = run<float>(net.cast<float>(), d.X, Y, o);
  REQUIRE(f.history.back().train_acc > 0.7);
  REQUIRE(std::abs(f.history.back().train_loss - a.history.back().train_loss) < 0.05);
}

TEST_CASE("checkpoint and resume: 3 + 3 epochs equal 6 epochs, bit for bit", "[train][checkpoint]") {
  const auto d = data::blobs(300, 3, 1.0, 8);
  const arma::mat Y = data::encode(d, Loss::ce, 3);
  auto net = init_network<double>({2, 8, 3}, {Activation::tanh, Activation::softmax}, Loss::ce, Init::xavier, 8);
  const std::string ck = (std::filesystem::temp_directory_path() / "nnlab_test_ckpt.json").string();
  for (const char* opt : {"adam", "momentum", "gd-linesearch"}) {
    Options o;
    o.optimizer = opt;
    o.epochs = 6;
    o.seed = 8;
    const auto full = run<double>(net, d.X, Y, o);
    o.checkpoint = ck;
    o.epochs = 3;
    run<double>(net, d.X, Y, o);
    o.epochs = 6;
    o.resume = true;
    const auto resumed = run<double>(net, d.X, Y, o);
    INFO(opt);
    REQUIRE(resumed.history.size() == 6);
    REQUIRE(same(full.model, resumed.model));
    REQUIRE(resumed.best_epoch == full.best_epoch);
  }
  std::filesystem::remove(ck);
}

TEST_CASE("early stopping and the model choice on validation", "[train]") {
  const auto d = data::moons(300, 0.3, 9);
  const arma::mat Y = data::encode(d, Loss::bce, 1);
  auto net = init_network<double>({2, 64, 64, 1}, {Activation::relu, Activation::relu, Activation::sigmoid}, Loss::bce,
                                  Init::he, 9);
  Options o;
  o.epochs = 500;
  o.lr = 0.01;
  o.patience = 5;
  o.seed = 9;
  const auto r = run<double>(net, d.X, Y, o);
  REQUIRE(r.n_val == std::size_t(std::floor(o.val_fraction * 300)));
  REQUIRE(r.n_val > 0);
  REQUIRE(r.stopped_early);
  REQUIRE(r.history.size() < 500);
  double best = 0;
  for (const auto& e : r.history) best = std::max(best, e.val_acc);
  REQUIRE(r.history[std::size_t(r.best_epoch - 1)].val_acc == best);
  // Early stopping without a validation set is refused, not silently off: --val 0, and a share
  // too small to hold out one of the 300 samples.
  for (double val : {0.0, 0.003}) {
    o.val_fraction = val;
    REQUIRE(validation_size(300, val) == 0);
    REQUIRE_THROWS_WITH(run<double>(net, d.X, Y, o), Catch::Contains("early stopping (patience 5) needs a validation set"));
  }
  REQUIRE(validation_size(300, 0.004) == 1);
  REQUIRE(validation_size(3, 0.9) == 2);  // at least one training sample
}

TEST_CASE("learning-rate schedules", "[train]") {
  const auto d = data::xor4();
  auto net = init_network<double>({2, 4, 1}, {Activation::tanh, Activation::identity}, Loss::mse, Init::xavier, 1);
  Options o;
  o.optimizer = "sgd";
  o.lr = 0.1;
  o.epochs = 4;
  o.val_fraction = 0;
  o.schedule = Schedule::inverse;
  o.decay = 1;
  auto r = run<double>(net, d.X, data::encode(d, Loss::mse, 1), o);
  CHECK(r.n_val == 0);  // no validation set: the summary says so instead of "val acc 0"
  CHECK(r.history[3].lr == Approx(0.1 / 4));
  o.schedule = Schedule::step;
  o.step_size = 2;
  o.gamma = 0.5;
  r = run<double>(net, d.X, data::encode(d, Loss::mse, 1), o);
  CHECK(r.history[1].lr == Approx(0.1));
  CHECK(r.history[2].lr == Approx(0.05));
}
