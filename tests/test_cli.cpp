// The nnlab command line, run as a user runs it: outputs parsed and compared with the
// library, every bad input exit 2 with one line on stderr naming the file, nothing on
// stdout, and no output file left behind.
#include "cli_run.hpp"
#include "helpers.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/hessian.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/data.hpp"
#include "nnlab/methods/lsq.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

using namespace nnlab;
namespace fs = std::filesystem;

namespace {
using test::put;
using test::run;
using test::lines;
using test::tmpdir;
using test::Run;

struct Files { std::string m, x, y; test::Case c; };
Files write_case(const std::string& tag, std::uint64_t seed, Activation a, Loss loss, std::size_t depth = 3) {
  Files f;
  f.c = test::make_case(seed, depth, a, loss, 6, 0.01, 0.02);
  f.m = put(tag + ".json", model_to_json(f.c.net));
  f.x = put(tag + "_x.csv", csv_to_string(f.c.X.t()));
  f.y = put(tag + "_y.csv", csv_to_string(f.c.Y.t()));
  return f;
}
}  // namespace

TEST_CASE("nnlab grad prints the library's loss and gradient on every backend", "[cli]") {
  for (Loss loss : kAllLosses) {
    auto f = write_case(std::string("g").append(name(loss)), 21 + std::size_t(loss), Activation::softplus, loss);
    // The files hold 17 digits, so the library sees exactly the same numbers.
    const auto net = read_model(f.m);
    const arma::mat X = read_csv(f.x).t(), Y = read_csv(f.y).t();
    Cache<double> c;
    Grads<double> g;
    const double J = make_backend<double>(BackendKind::naive)->value_and_grad(net, X, Y, c, g);
    for (const char* b : {"naive", "matrix", "openmp", "graph"}) {
      const auto r = run("grad --model " + f.m + " --x " + f.x + " --y " + f.y + " --backend " + b + " --threads 2");
      INFO(b << ": " << r.err);
      REQUIRE(r.code == 0);
      const auto j = nlohmann::json::parse(r.out);
      REQUIRE(j["loss"].get<double>() == Approx(J).epsilon(1e-12));
      REQUIRE(j["grads"].size() == net.depth());
      for (std::size_t l = 0; l < net.depth(); ++l) {
        const auto& W = j["grads"][l]["W"];
        REQUIRE(W.size() == g.dW[l].n_rows);
        for (arma::uword i = 0; i < g.dW[l].n_rows; ++i)
          for (arma::uword k = 0; k < g.dW[l].n_cols; ++k)
            REQUIRE(W[i][k].get<double>() == Approx(g.dW[l](i, k)).epsilon(1e-10).margin(1e-14));
        REQUIRE(j["grads"][l]["b"].size() == g.db[l].n_elem);
      }
    }
  }
}

TEST_CASE("nnlab predict prints A[L], one sample per row, 17 digits", "[cli]") {
  auto f = write_case("p", 5, Activation::tanh, Loss::ce);
  const auto r = run("predict --model " + f.m + " --x " + f.x);
  REQUIRE(r.code == 0);
  const arma::mat P = parse_csv(r.out, "stdout");
  Cache<double> c;
  make_backend<double>(BackendKind::naive)->forward(read_model(f.m), read_csv(f.x).t(), c);
  REQUIRE(P.n_rows == f.c.X.n_cols);
  REQUIRE(rel_diff(P, arma::mat(c.A.back().t())) <= 1e-14);
}

TEST_CASE("nnlab gradcheck passes on a correct model and fails (exit 1) under an impossible tolerance", "[cli]") {
  auto f = write_case("gc", 8, Activation::tanh, Loss::mse, 2);
  auto r = run("gradcheck --model " + f.m + " --x " + f.x + " --y " + f.y);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("graph") != std::string::npos);
  r = run("gradcheck --json --model " + f.m + " --x " + f.x + " --y " + f.y);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["passed"] == true);
  REQUIRE(j["rows"].size() >= 4 * 2);
  r = run("gradcheck --tol 1e-30 --model " + f.m + " --x " + f.x + " --y " + f.y);
  REQUIRE(r.code == 1);
  r = run("gradcheck --mode directional --model " + f.m + " --x " + f.x + " --y " + f.y);
  REQUIRE(r.code == 0);
}

TEST_CASE("--help exits 0 for every subcommand", "[cli]") {
  for (const char* s : {"", "grad ", "gradcheck ", "predict "}) {
    const auto r = run(std::string(s) + "--help");
    REQUIRE(r.code == 0);
    REQUIRE(r.out.find("--") != std::string::npos);
  }
}

TEST_CASE("bad input: exit 2, one line on stderr naming the file, nothing on stdout", "[cli][bad-input]") {
  auto f = write_case("ok", 3, Activation::relu, Loss::mse, 2);
  const std::string ok = "--model " + f.m + " --x " + f.x + " --y " + f.y;
  const std::string n0 = std::to_string(f.c.net.n_in());
  struct Bad { std::string args, names; };
  std::vector<Bad> cases = {
      {"grad --model /nonexistent.json --x " + f.x + " --y " + f.y, "/nonexistent.json"},
      {"grad --model " + put("b1.json", "{\"format\":") + " --x " + f.x + " --y " + f.y, "b1.json"},
      {"grad --model " + put("b2.json", "{}") + " --x " + f.x + " --y " + f.y, "b2.json"},
      {"grad --model " + f.m + " --x " + put("b3.csv", "1,2\nx,y\n") + " --y " + f.y, "b3.csv"},
      {"grad --model " + f.m + " --x " + put("b4.csv", "1\n") + " --y " + f.y, "b4.csv"},
      {"grad --model " + f.m + " --x " + f.x + " --y " + put("b5.csv", "1\n2\n"), "b5.csv"},
      {"grad --model " + f.m + " --x " + f.x + " --y " + put("b6.csv", "nan\n"), "b6.csv"},
      {"grad " + ok + " --backend fast", "backend"},
      {"grad " + ok + " --threads 0", "threads"},
      {"grad --x " + f.x + " --y " + f.y, "model"},
      {"frobnicate", "frobnicate"},
      {"predict --model " + f.m + " --x /tmp", "/tmp"},
      {"gradcheck --model " + f.m + " --x " + f.x + " --y " + put("b7.csv", "1,2\n3\n"), "b7.csv"},
  };
  for (const auto& b : cases) {
    const auto r = run(b.args);
    INFO(b.args << "\nstderr: " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.out.empty());
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.err.find(b.names) != std::string::npos);
  }
}

// Real-valued options: a finite number in the option's range, or exit 2 with one line that
// names the option and the value (CLI11's own checks let "nan" through: --lr nan trained to a
// "diverged" run, --gamma nan passed silently).
TEST_CASE("bad real-valued options: nan, inf, out of range, trailing text", "[cli][bad-input]") {
  auto f = write_case("opt", 3, Activation::relu, Loss::mse, 2);
  const std::string never = (tmpdir() / "opt_never.json").string();
  const std::string train = "train --dataset moons --layers 2,3,1 --activations relu,sigmoid --loss bce --epochs 1 --out " + never;
  const std::string dd = "double-descent --dataset blobs --n-train 20 --features 4 --out " + never;
  struct Bad { std::string args, option, value; };
  for (const Bad& b : std::vector<Bad>{
           {train + " --lr nan", "--lr", "nan"},
           {train + " --lr inf", "--lr", "inf"},
           {train + " --lr 0", "--lr", "0"},
           {train + " --lr 1e-3x", "--lr", "1e-3x"},
           {train + " --l1 -1e-9", "--l1", "-1e-9"},
           {train + " --l2 nan", "--l2", "nan"},
           {train + " --val nan", "--val", "nan"},
           {train + " --val 0.95", "--val", "0.95"},
           {train + " --schedule inverse --decay -5", "--decay", "-5"},
           {train + " --schedule step --gamma 0", "--gamma", "0"},
           {train + " --gamma nan", "--gamma", "nan"},
           {dd + " --noise nan", "--noise", "nan"},
           {dd + " --ridge -inf", "--ridge", "-inf"},
           {"gradcheck --model " + f.m + " --x " + f.x + " --y " + f.y + " --tol nan", "--tol", "nan"}}) {
    const auto r = run(b.args);
    INFO(b.args << "\nstderr: " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.out.empty());
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.err.find(b.option + ": must be a finite number") != std::string::npos);
    REQUIRE(r.err.find("'" + b.value + "'") != std::string::npos);
    REQUIRE_FALSE(fs::exists(never));
  }
  // The edges of the ranges are accepted.
  const auto ok = run(train + " --val 0 --l1 0 --l2 0 --schedule step --gamma 1e-300 --lr 1e-300");
  INFO(ok.err);
  REQUIRE(ok.code == 0);
  REQUIRE(fs::exists(never));
  fs::remove(never);
}

TEST_CASE("a non-finite result exits 1", "[cli]") {
  // exp overflow: elu is fine, but mse on huge weights overflows to inf.
  const std::string m = put("inf.json", R"({"format":"nnlab-model","version":1,"loss":"mse",
    "layers":[{"activation":"identity","W":[[1e308]],"b":[0]}]})");
  const auto r = run("grad --model " + m + " --x " + put("inf_x.csv", "1e10\n") + " --y " + put("inf_y.csv", "0\n"));
  REQUIRE(r.code == 1);
  REQUIRE(r.out.empty());
}

TEST_CASE("nnlab gauss-newton: the contract's JSON, zero start, the identity case in one step", "[cli][lsq]") {
  // y = sigmoid(1.5 x1 - 0.5 x2 + 0.25) exactly, on a 6 x 2 grid of points.
  std::string xs, ys, yl;
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 2; ++j) {
      const double x1 = -1.5 + 0.6 * i, x2 = -1.0 + 2.0 * j + 0.1 * i;
      xs += fmt17(x1) + "," + fmt17(x2) + "\n";
      ys += fmt17(1 / (1 + std::exp(-(1.5 * x1 - 0.5 * x2 + 0.25)))) + "\n";
      yl += fmt17(2 * x1 + 3 * x2 - 1 + 0.01 * ((i * 7 + j * 3) % 5 - 2)) + "\n";
    }
  const std::string x = put("gn_x.csv", xs), y = put("gn_y.csv", ys), ylin = put("gn_ylin.csv", yl);
  for (const char* m : {"gn", "lm"}) {
    const auto r = run(std::string("gauss-newton --x ") + x + " --y " + y + " --method " + m);
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["w"].size() == 2);
    REQUIRE(j["w"][0].get<double>() == Approx(1.5).epsilon(1e-9));
    REQUIRE(j["w"][1].get<double>() == Approx(-0.5).epsilon(1e-9));
    REQUIRE(j["b"].get<double>() == Approx(0.25).epsilon(1e-9));
    REQUIRE(j["cost"].get<double>() < 1e-20);
    REQUIRE(j["iterations"].get<int>() <= 15);
    REQUIRE(j["history"].size() == std::size_t(j["iterations"].get<int>()) + 1);
    REQUIRE(j["history"][0]["iter"] == 0);
    REQUIRE(j["history"][0]["cost"].get<double>() > 0.01);  // from all zeros
    for (const char* k : {"iter", "cost", "grad_norm", "step_norm"}) REQUIRE(j["history"][1].contains(k));
    REQUIRE(j["status"].is_string());
  }
  // identity: one step from an arbitrary start lands on the least-squares solution
  const auto r = run("gauss-newton --activation identity --max-iter 1 --x " + x + " --y " + ylin + " --init " +
                     put("gn_init.csv", "10,-7,3\n"));
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const arma::vec ls = lsq::linear_least_squares(read_csv(x), read_csv(ylin).col(0));
  REQUIRE(j["w"][0].get<double>() == Approx(ls[0]).epsilon(1e-12));
  REQUIRE(j["b"].get<double>() == Approx(ls[2]).epsilon(1e-12));
  // bad inputs
  for (const std::string& args :
       {std::string("gauss-newton --x ") + x + " --y " + put("gn_bad1.csv", "1,2\n"),
        std::string("gauss-newton --x ") + x + " --y " + y + " --init " + put("gn_bad2.csv", "1,2\n"),
        std::string("gauss-newton --x ") + x + " --y " + y + " --activation relu",
        std::string("gauss-newton --x ") + x + " --y " + y + " --method qr"}) {
    const auto b = run(args);
    INFO(args << "\n" << b.err);
    REQUIRE(b.code == 2);
    REQUIRE(b.out.empty());
    REQUIRE(lines(b.err) == 1);
  }
}

TEST_CASE("nnlab memorize writes the lectures' network; predict returns Y exactly", "[cli][relu]") {
  const std::string x = put("mem_x.csv", "0,0\n1,2\n-3,4\n2,-1\n"), y = put("mem_y.csv", "1.5\n-2\n0.1\n7\n");
  const std::string out = (tmpdir() / "mem.json").string();
  auto r = run("memorize --x " + x + " --y " + y + " --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto net = read_model(out);
  REQUIRE(net.n_neurons() == 2 * 4 * 2 + 4 + 1);
  r = run("predict --model " + out + " --x " + x);
  REQUIRE(r.code == 0);
  const arma::mat P = parse_csv(r.out, "stdout");
  REQUIRE(arma::all(arma::vectorise(P) == arma::vec{1.5, -2, 0.1, 7}));
  // Off the unit balls: exactly 0.
  r = run("predict --model " + out + " --x " + put("mem_far.csv", "10,10\n0.5,0.5\n-1,-1\n"));
  const arma::mat F = parse_csv(r.out, "stdout");
  REQUIRE(F(0, 0) == 0.0);
  REQUIRE(F(1, 0) == 0.0);  // ||(0.5,0.5) - (0,0)||_1 = 1
  REQUIRE(F(2, 0) == 0.0);
  // gradcheck at the memorized points: every layer-1 pre-activation x_d - x_n,d of a point's own
  // neurons is 0, a ReLU kink, so layer 1 cannot be verified there; a check that verifies
  // nothing fails (exit 1, verdict kink-only).  A quarter off every point it passes.
  r = run("gradcheck --json --model " + out + " --x " + x + " --y " + y);
  INFO(r.err);
  REQUIRE(r.code == 1);
  const auto jk = nlohmann::json::parse(r.out);
  REQUIRE(jk["passed"] == false);
  int kink_only = 0, failed = 0;
  for (const auto& row : jk["rows"]) {
    kink_only += row["verdict"] == "kink-only";
    failed += row["verdict"] == "FAIL";
  }
  REQUIRE(kink_only >= 4);  // at least layer 1 on each of the four backends
  REQUIRE(failed == 0);
  r = run("gradcheck --model " + out + " --x " + put("mem_off.csv", "0.25,0.25\n1.25,2.25\n-2.75,3.75\n2.25,-0.75\n") +
          " --y " + y);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  // bad input: no output file left behind
  const std::string bad_out = (tmpdir() / "never.json").string();
  for (const std::string& args : {"memorize --x " + put("mem_b1.csv", "0.5,1\n") + " --y " + put("mem_b1y.csv", "1\n"),
                                  "memorize --x " + put("mem_b2.csv", "1,1\n1,1\n") + " --y " + put("mem_b2y.csv", "1\n2\n"),
                                  "memorize --x " + x + " --y " + put("mem_b3y.csv", "1\n2\n")}) {
    const auto b = run(args + " --out " + bad_out);
    INFO(args << "\n" << b.err);
    REQUIRE(b.code == 2);
    REQUIRE(lines(b.err) == 1);
    REQUIRE_FALSE(fs::exists(bad_out));
  }
  // An output that cannot be written is found before the network is built.
  const auto w = run("memorize --x " + x + " --y " + y + " --out " + (tmpdir() / "no_such_dir" / "m.json").string());
  REQUIRE(w.code == 2);
  REQUIRE(lines(w.err) == 1);
  REQUIRE(w.err.find("cannot write") != std::string::npos);
  // 2N^2 D parameters: 60,000 points on a line (D = 1) would need 7.2e9 of them, ~170 GB;
  // refused up front with the numbers, before the allocation.
  std::string many;
  for (int i = 0; i < 60000; ++i) many += std::to_string(i) + "\n";
  const auto m = run("memorize --x " + put("mem_many.csv", many) + " --y " + put("mem_many_y.csv", many) + " --out " + bad_out);
  INFO(m.err);
  REQUIRE(m.code == 2);
  REQUIRE(lines(m.err) == 1);
  REQUIRE(m.err.find("N = 60000 points, D = 1: the network's 7.2e+09 parameters need about") != std::string::npos);
  REQUIRE_FALSE(fs::exists(bad_out));
}

TEST_CASE("nnlab train and evaluate: --x/--y and --dataset, model file, JSON, bad input", "[cli][train]") {
  // moons from files: train, then evaluate on the same files.
  const auto d = data::moons(300, 0.1, 2);
  const std::string x = put("tr_x.csv", csv_to_string(d.X.t())),
                    y = put("tr_y.csv", csv_to_string(data::encode(d, Loss::bce, 1).t()));
  const std::string out = (tmpdir() / "trained.json").string(), log = (tmpdir() / "trained.csv").string();
  auto r = run("train --x " + x + " --y " + y + " --layers 2,16,1 --activations tanh,sigmoid --loss bce --lr 0.03"
               " --epochs 100 --seed 3 --log " + log + " --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(out));
  REQUIRE(parse_csv(read_file(log).substr(read_file(log).find('\n') + 1), "log").n_rows == 100);
  r = run("evaluate --model " + out + " --x " + x + " --y " + y);
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["n"] == 300);
  REQUIRE(j["accuracy"].get<double>() > 0.95);
  REQUIRE(j["loss"].get<double>() > 0);
  // The same seed gives the same model file, byte for byte.
  const std::string out2 = (tmpdir() / "trained2.json").string();
  run("train --x " + x + " --y " + y + " --layers 2,16,1 --activations tanh,sigmoid --loss bce --lr 0.03"
      " --epochs 100 --seed 3 --out " + out2);
  REQUIRE(read_file(out) == read_file(out2));
  // Built-in data, and evaluate on its test split.
  r = run("train --dataset spirals --layers 2,64,3 --activations relu,softmax --loss ce --lr 0.01 --epochs 60"
          " --batch 32 --out " + out);
  REQUIRE(r.code == 0);
  r = run("evaluate --model " + out + " --dataset spirals:test");
  REQUIRE(r.code == 0);
  REQUIRE(nlohmann::json::parse(r.out)["accuracy"].get<double>() > 0.8);
  // Bad input: exit 2, one line, no model file.
  const std::string never = (tmpdir() / "never_trained.json").string();
  for (const std::string& args :
       {"train --dataset nosuch --layers 2,3,1 --activations relu,sigmoid --loss bce --out " + never,
        "train --dataset moons --layers 2,3,1 --activations relu --loss bce --out " + never,
        "train --dataset moons --layers 2,3,3 --activations relu,sigmoid --loss bce --out " + never,
        "train --dataset moons --layers 2,3,1 --activations relu,swish --loss bce --out " + never,
        "train --dataset moons --layers 2,x,1 --activations relu,sigmoid --loss bce --out " + never,
        "train --dataset moons --layers 2,3,1, --activations relu,sigmoid --loss bce --out " + never,  // a trailing comma
        "train --dataset moons --layers 2,3,1 --activations relu,sigmoid, --loss bce --out " + never,
        "train --dataset moons --layers 2,3,1 --activations relu,relu --loss bce --out " + never,
        "train --x " + x + " --layers 2,3,1 --activations relu,sigmoid --loss bce --out " + never,
        "train --x " + x + " --y " + y + " --layers 2,3,1 --activations relu,softmax --loss ce --out " + never,
        "train --dataset moons --layers 2,3,1 --activations relu,sigmoid --loss bce --batch 0 --out " + never,
        // 1e12 parameters: refused up front with the memory they would need (not by the allocator)
        "train --dataset moons --layers 2,1000000,1000000,1 --activations relu,relu,sigmoid --loss bce --out " + never,
        // an output that cannot be written is found before the training (one line: not even the
        // run's summary line, which comes after the data are loaded)
        "train --dataset moons --layers 2,3,1 --activations relu,sigmoid --loss bce --epochs 1000 --out " +
            (tmpdir() / "no_such_dir" / "m.json").string(),
        "train --dataset moons --layers 2,3,1 --activations relu,sigmoid --loss bce --epochs 1000 --log " +
            tmpdir().string() + " --out " + never,
        "evaluate --model " + out + " --dataset moons"}) {
    const auto b = run(args);
    INFO(args << "\n" << b.err);
    REQUIRE(b.code == 2);
    REQUIRE(b.out.empty());
    REQUIRE(lines(b.err) == 1);
    REQUIRE_FALSE(fs::exists(never));
  }
  // The memory estimate names the parameters and the gigabytes, before any allocation.
  const auto big = run("train --dataset moons --layers 2,1000000,1000000,1 --activations relu,relu,sigmoid --loss bce --out " + never);
  REQUIRE(big.err.find("1e+12 parameters (weights, gradients, optimizer state, best model) need about") !=
          std::string::npos);
}

TEST_CASE("nnlab train --checkpoint/--resume continues an interrupted run exactly", "[cli][train][checkpoint]") {
  const std::string a = (tmpdir() / "straight.json").string(), b = (tmpdir() / "resumed.json").string(),
                    ck = (tmpdir() / "run.ckpt").string();
  const std::string common = "train --dataset blobs --layers 2,8,3 --activations tanh,softmax --loss ce --lr 0.01 --seed 4";
  REQUIRE(run(common + " --epochs 6 --out " + a).code == 0);
  REQUIRE(run(common + " --epochs 3 --checkpoint " + ck + " --out " + b).code == 0);  // "interrupted" after 3
  const auto r = run(common + " --epochs 6 --checkpoint " + ck + " --resume --out " + b);
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(read_file(a) == read_file(b));
  REQUIRE(run(common + " --epochs 6 --resume --out " + b).code == 2);  // --resume needs --checkpoint
  // --resume with no checkpoint file yet: one line naming the file, no summary line before it.
  const auto none = run(common + " --epochs 6 --checkpoint " + (tmpdir() / "none.ckpt").string() + " --resume --out " + b);
  REQUIRE(none.code == 2);
  REQUIRE(lines(none.err) == 1);
  REQUIRE(none.err.find("none.ckpt: no checkpoint to resume from") != std::string::npos);
  // Early stopping without a validation set: the same.
  const auto pat = run(common + " --epochs 6 --val 0 --patience 3 --out " + b);
  REQUIRE(pat.code == 2);
  REQUIRE(lines(pat.err) == 1);
  REQUIRE(pat.err.find("needs a validation set") != std::string::npos);
}

TEST_CASE("nnlab double-descent: the contract's CSV, from --x/--y and from --dataset", "[cli][dd]") {
  arma::arma_rng::set_seed(3);
  const arma::mat X = arma::randn(150, 6), Y = arma::randn(150, 2);
  const std::string x = put("dd_x.csv", csv_to_string(X)), y = put("dd_y.csv", csv_to_string(Y));
  const std::string out = (tmpdir() / "dd.csv").string();
  auto r = run("double-descent --x " + x + " --y " + y + " --n-train 50 --features 10,50,200 --trials 2 --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string text = read_file(out);
  REQUIRE(text.rfind("features,train_mse,test_mse,test_error,weight_norm,condition\n", 0) == 0);
  const arma::mat R = parse_csv(text.substr(text.find('\n') + 1), "dd.csv");
  REQUIRE(R.n_rows == 3);
  REQUIRE(R.n_cols == 6);
  REQUIRE(R(0, 0) == 10);
  REQUIRE(R(2, 1) < 1e-20);  // p = 200 > n = 50: interpolation
  r = run("double-descent --dataset blobs --n-train 40 --n-test 100 --features 10,40,160 --ensemble 3 --noise 0.2 --out " + out);
  REQUIRE(r.code == 0);
  REQUIRE(read_file(out).rfind("features,train_mse,test_mse,test_error,weight_norm,condition,ensemble_test_mse,ensemble_test_error\n", 0) == 0);
  const std::string never = (tmpdir() / "dd_never.csv").string();
  for (const std::string& args :
       {"double-descent --x " + x + " --y " + y + " --n-train 150 --features 10 --out " + never,
        "double-descent --x " + x + " --y " + y + " --n-train 50 --features 10,x --out " + never,
        "double-descent --x " + x + " --y " + y + " --n-train 50 --features 10, --out " + never,
        "double-descent --dataset blobs --n-train 50 --features 10 --ridge-grid 0.1, --out " + never,
        "double-descent --x " + x + " --y " + y + " --n-train 50 --features 10 --noise 2 --out " + never,
        "double-descent --dataset nosuch --n-train 50 --features 10 --out " + never,
        "double-descent --dataset blobs --n-train 50 --features 10 --x " + x + " --out " + never,
        "double-descent --dataset blobs --n-train 50 --features 10 --out " + (tmpdir() / "no_such_dir" / "r.csv").string(),
        "double-descent --dataset blobs --n-train 2000 --features 10,10000000 --out " + never}) {
    const auto b = run(args);
    INFO(args << "\n" << b.err);
    REQUIRE(b.code == 2);
    REQUIRE(lines(b.err) == 1);
    REQUIRE_FALSE(fs::exists(never));
  }
  // Too few rows: the message gives the sum it needs.
  REQUIRE(run("double-descent --x " + x + " --y " + y + " --n-train 100 --n-test 60 --features 10 --out " + never)
              .err.find("has 150 rows, fewer than --n-train 100 + --n-test 60 = 160") != std::string::npos);
  REQUIRE(run("double-descent --x " + x + " --y " + y + " --n-train 150 --features 10 --out " + never)
              .err.find("has 150 rows, fewer than --n-train 150 plus at least one test row") != std::string::npos);
  // p = 1e7 features on 4000 samples: refused up front with the memory one fit would need.
  REQUIRE(run("double-descent --dataset blobs --n-train 2000 --features 10000000 --out " + never).err.find(
              "one fit, need about 480 GB") != std::string::npos);
}

// OpenBLAS 0.3.21 falls back to its generic Prescott kernels on CPUs it does not know (5x
// slower dgemm); nnlab then re-executes itself with OPENBLAS_CORETYPE set (nnlab/runtime/blas.hpp).
// On a CPU with AVX2 and FMA, the nnlab command must never run on the generic kernels, and
// the re-execution must not change what a bad input gets (exit 2, one line, no stdout).
TEST_CASE("nnlab never runs on OpenBLAS's generic kernels on a CPU with AVX2", "[cli][blas]") {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool forced = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  const auto r = run("--version");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("OpenBLAS") != std::string::npos);
  // openblas_get_config(): "OpenBLAS 0.3.21 ... <core> MAX_THREADS=64"
  if (avx2 && !forced) REQUIRE(r.out.find(" Prescott MAX_THREADS") == std::string::npos);
  // what this process itself loaded, and what the library says of it
  const std::string core = blas_core();
  INFO("this process: " << core << ", suggestion '" << blas_core_suggestion() << "'");
  REQUIRE(!core.empty());
  if (avx2) REQUIRE((core != "Prescott") == blas_core_suggestion().empty());
  const auto bad = run("predict --model " + put("v.json", "{") + " --x " + put("v.csv", "1\n"));
  REQUIRE(bad.code == 2);
  REQUIRE(lines(bad.err) == 1);
  REQUIRE(bad.out.empty());
}

TEST_CASE("nnlab hvp prints the contract's JSON; bad directions and backends are refused", "[cli][hessian]") {
  auto f = write_case("hv", 61, Activation::tanh, Loss::ce);
  const auto net = read_model(f.m);
  const Grads<double> v = random_direction(net, 3);
  std::string vj = "{ \"v\": [";
  for (std::size_t l = 0; l < net.depth(); ++l) {
    nlohmann::json W = nlohmann::json::array();
    for (arma::uword r = 0; r < v.dW[l].n_rows; ++r) W.push_back(arma::conv_to<std::vector<double>>::from(v.dW[l].row(r)));
    vj += std::string(l ? ", " : "") + "{ \"W\": " + W.dump() +
          ", \"b\": " + nlohmann::json(arma::conv_to<std::vector<double>>::from(v.db[l])).dump() + " }";
  }
  vj += "] }";
  const std::string vp = put("hv_v.json", vj);
  const arma::mat X = read_csv(f.x).t(), Y = read_csv(f.y).t();
  double J = 0;
  const Grads<double> H = hvp(net, X, Y, read_direction(vp, net), &J);
  for (const char* be : {"naive", "matrix"}) {
    const auto r = run("hvp --model " + f.m + " --x " + f.x + " --y " + f.y + " --v " + vp + " --backend " + be);
    INFO(be << ": " << r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["loss"].get<double>() == Approx(J).epsilon(1e-14));
    REQUIRE(j["hvp"].size() == net.depth());
    for (std::size_t l = 0; l < net.depth(); ++l)
      for (arma::uword i = 0; i < H.dW[l].n_rows; ++i) {
        CHECK(j["hvp"][l]["b"][i].get<double>() == Approx(H.db[l][i]).epsilon(1e-11).margin(1e-15));
        for (arma::uword k = 0; k < H.dW[l].n_cols; ++k)
          CHECK(j["hvp"][l]["W"][i][k].get<double>() == Approx(H.dW[l](i, k)).epsilon(1e-11).margin(1e-15));
      }
  }
  const std::string hv = "hvp --model " + f.m + " --x " + f.x + " --y " + f.y + " --v ";
  const std::pair<std::string, std::string> bad[] = {
      {hv + put("hv_b1.json", "{ \"v\": [] }"), "must be an array of 3 layers"},
      {hv + put("hv_b2.json", "{ \"w\": [] }"), "unknown key 'w'"},
      {hv + put("hv_b3.json", "[1, 2]"), "must be a JSON object"},
      {hv + vp + " --backend openmp", "--backend openmp: computes no Hessian-vector product"},
  };
  for (const auto& [args, says] : bad) {
    const auto r = run(args);
    INFO(args << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(says) != std::string::npos);
  }
}
