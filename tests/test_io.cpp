// Model JSON and CSV: round trip, every rule of the contract enforced with a clear message.
#include "helpers.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/methods/train.hpp"
#include "common/plot.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

using namespace nnlab;

namespace {
const char* kGood = R"({"format":"nnlab-model","version":1,"loss":"mse","l1":0.5,"l2":0,
 "layers":[{"activation":"tanh","W":[[1,2],[3,4],[5,6]],"b":[0.1,0.2,0.3]},
           {"activation":"identity","W":[[1e-3,-2.5,7]],"b":[-1]}]})";

std::string error_of(const std::function<void()>& f) {
  try { f(); } catch (const InputError& e) { return e.what(); }
  return "(no error)";
}
}  // namespace

TEST_CASE("a good model parses to the contract's shapes", "[io]") {
  const auto net = parse_model(kGood, "m.json");
  REQUIRE(net.depth() == 2);
  REQUIRE(net.sizes() == std::vector<std::size_t>{2, 3, 1});
  REQUIRE(net.layers[0].W(2, 1) == 6);  // row i = incoming weights of neuron i
  REQUIRE(net.layers[1].W(0, 0) == 1e-3);
  REQUIRE(net.l1 == 0.5);
  REQUIRE(net.loss == Loss::mse);
}

TEST_CASE("JSON round trip is exact (17 significant digits)", "[io]") {
  for (Loss loss : kAllLosses) {
    auto c = test::make_case(3 + std::size_t(loss), 3, Activation::selu, loss, 2, 0.125, 1.0 / 3);
    const auto back = parse_model(model_to_json(c.net), "rt.json");
    REQUIRE(back.loss == c.net.loss);
    REQUIRE(back.l2 == c.net.l2);
    for (std::size_t l = 0; l < c.net.depth(); ++l) {
      REQUIRE(back.layers[l].act == c.net.layers[l].act);
      REQUIRE(arma::approx_equal(back.layers[l].W, c.net.layers[l].W, "absdiff", 0.0));
      REQUIRE(arma::approx_equal(back.layers[l].b, c.net.layers[l].b, "absdiff", 0.0));
    }
  }
}

TEST_CASE("bad models are refused with the file, the place and the problem", "[io][bad-input]") {
  struct Bad { const char* text; const char* expect; };
  const Bad cases[] = {
      {"", "invalid JSON"},
      {"{", "invalid JSON"},
      {"[]", "must be a JSON object"},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested deeper"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[]})", "layers: must be a non-empty array"},
      {R"({"format":"nnlab","version":1,"loss":"mse","layers":[]})", "format"},
      {R"({"format":"nnlab-model","version":2,"loss":"mse","layers":[]})", "version"},
      {R"({"format":"nnlab-model","version":1.0,"loss":"mse","layers":[]})", "version"},
      {R"({"format":"nnlab-model","version":"1","loss":"mse","layers":[]})", "version"},
      {R"({"format":"nnlab-model","version":1,"loss":"MSE","layers":[]})", "loss"},
      {R"({"format":"nnlab-model","version":1,"layers":[]})", "missing key 'loss'"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[],"extra":1})", "unknown key 'extra'"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","loss":"ce","layers":[]})", "duplicate key 'loss'"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","l1":-1,"layers":[]})", "l1: must be >= 0"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","l2":true,"layers":[]})", "l2: not a number"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","l2":1e999,"layers":[]})", "number overflow"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"swish","W":[[1]],"b":[0]}]})",
       "layers[0].activation: unknown activation 'swish'"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1]],"b":[0],"bias":[0]}]})",
       "layers[0]: unknown key 'bias'"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1]]}]})",
       "layers[0]: missing key 'b'"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1],[2,3]],"b":[0,0]}]})",
       "layers[0].W[1]: has 2 entries"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[]],"b":[]}]})",
       "layers[0].W[0]"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1,"x"]],"b":[0]}]})",
       "layers[0].W[0][1]: not a number"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1,2]],"b":[0,1]}]})",
       "layers[0].b: has 2 entries"},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1,2]],"b":[0]},
          {"activation":"relu","W":[[1,2]],"b":[0]}]})", "do not chain"},
      {R"({"format":"nnlab-model","version":1,"loss":"ce","layers":[{"activation":"sigmoid","W":[[1,2]],"b":[0]}]})",
       "needs the last activation \"softmax\""},
      {R"({"format":"nnlab-model","version":1,"loss":"bce","layers":[{"activation":"softmax","W":[[1,2]],"b":[0]}]})",
       "needs the last activation \"sigmoid\""},
      {R"({"format":"nnlab-model","version":1,"loss":"mse","layers":[{"activation":"relu","W":[[1,2]],"b":[0],"W":[[1]]}]})",
       "duplicate key 'W'"},
  };
  for (const auto& b : cases) {
    INFO(b.text);
    const std::string e = error_of([&] { parse_model(b.text, "bad.json"); });
    INFO(e);
    REQUIRE(e.rfind("bad.json: ", 0) == 0);
    REQUIRE(e.find(b.expect) != std::string::npos);
    REQUIRE(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("CSV: spaces, CRLF and a final newline are fine", "[io]") {
  const arma::mat M = parse_csv(" 1, -2.5e-3 \r\n+3,4.\r\n", "x.csv");
  REQUIRE(M.n_rows == 2);
  REQUIRE(M.n_cols == 2);
  REQUIRE(M(0, 1) == -2.5e-3);
  REQUIRE(M(1, 0) == 3);
  REQUIRE(parse_csv("7", "x.csv")(0, 0) == 7);
  REQUIRE(parse_csv("1e-320\n", "x.csv")(0, 0) > 0);  // subnormal: fine
  const arma::mat R = parse_csv(csv_to_string(M), "rt.csv");
  REQUIRE(arma::approx_equal(R, M, "absdiff", 0.0));
}

TEST_CASE("CSV: bad input names line and column", "[io][bad-input]") {
  struct Bad { const char* text; const char* expect; };
  const Bad cases[] = {
      {"", "no rows"},
      {"\n", "line 1: empty line"},
      {"1,2\n\n3,4\n", "line 2: empty line"},
      {"1,2\n3\n", "line 2: has 1 fields, row 1 has 2"},
      {"1,2\n3,4,5\n", "line 2: has more than 2 fields"},
      {"1,,2\n", "line 1, column 2: empty field"},
      {"1,abc\n", "line 1, column 2: 'abc' is not a decimal number"},
      {"nan\n", "'nan' is not a decimal number"},
      {"1\ninf\n", "line 2, column 1: 'inf'"},
      {"-Infinity\n", "is not a decimal number"},
      {"0x1p3\n", "'0x1p3' is not a decimal number"},
      {"1e999\n", "overflows"},
      {"-1e400\n", "overflows"},
      {"1.2.3\n", "not a decimal number"},
      {"\"1\"\n", "not a decimal number"},
      {"1;2\n", "not a decimal number"},
      {"1,2,\n", "line 1, column 3: empty field"},
      // line 1: the two usual causes are named
      {"\xEF\xBB\xBF" "1,2\n", "line 1, column 1: '\\xef\\xbb\\xbf1' is not a decimal number (the file starts with a UTF-8 byte-order mark"},
      {"x1,x2\n1,2\n", "line 1, column 1: 'x1' is not a decimal number (no header row: the first line must be numbers)"},
  };
  for (const auto& b : cases) {
    INFO(b.text);
    const std::string e = error_of([&] { parse_csv(b.text, "x.csv"); });
    INFO(e);
    REQUIRE(e.rfind("x.csv: ", 0) == 0);
    REQUIRE(e.find(b.expect) != std::string::npos);
  }
  // No header hint where the field is a number word or a hex float, or past line 1.
  for (const char* text : {"nan,1\n", "-Infinity\n", "0x1p3\n", "1\nabc\n"}) {
    const std::string e = error_of([&] { parse_csv(text, "x.csv"); });
    INFO(e);
    REQUIRE(e.find("header") == std::string::npos);
  }
}

TEST_CASE("targets must fit the loss", "[io][bad-input]") {
  CHECK_NOTHROW(validate_targets(Loss::ce, arma::mat{{0.25, 0.75}, {1, 0}}, "y.csv"));
  CHECK(error_of([] { validate_targets(Loss::ce, arma::mat{{0.5, 0.6}}, "y.csv"); }).find("sum to 1") != std::string::npos);
  CHECK(error_of([] { validate_targets(Loss::ce, arma::mat{{-0.5, 1.5}}, "y.csv"); }).find(">= 0") != std::string::npos);
  CHECK(error_of([] { validate_targets(Loss::bce, arma::mat(1, 1, arma::fill::value(1.5)), "y.csv"); }).find("[0, 1]") != std::string::npos);
  CHECK(error_of([] { validate_targets(Loss::hinge, arma::mat(arma::vec{1.0, 0.0}), "y.csv"); }).find("line 2, column 1") != std::string::npos);
  CHECK_NOTHROW(validate_targets(Loss::hinge, arma::mat{{1, -1}}, "y.csv"));
}

TEST_CASE("missing files, directories and devices are clear errors; writes are atomic", "[io]") {
  CHECK(error_of([] { read_csv("/nonexistent/x.csv"); }).find("/nonexistent/x.csv: cannot open") == 0);
  CHECK(error_of([] { read_model("/tmp"); }).find("is a directory") != std::string::npos);
  CHECK(error_of([] { read_csv("/dev/zero"); }).find("is a device") != std::string::npos);
  const auto dir = std::filesystem::temp_directory_path() / "nnlab_io_test";
  std::filesystem::create_directories(dir);
  const std::string p = (dir / "m.json").string();
  write_model(p, parse_model(kGood, "m.json"));
  REQUIRE(read_model(p).sizes() == std::vector<std::size_t>{2, 3, 1});
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++files;
  REQUIRE(files == 1);  // no temporary left behind
  CHECK(error_of([&] { write_file((dir / "no/such/dir/f").string(), "x"); }).find("cannot write") !=
        std::string::npos);
  // check_writable: the same errors before any work, and nothing left behind when it can write.
  CHECK(error_of([&] { check_writable((dir / "no/such/dir/f").string()); }).find("cannot write") != std::string::npos);
  CHECK(error_of([&] { check_writable(dir.string()); }).find("is a directory") != std::string::npos);
  check_writable((dir / "later.json").string());
  files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++files;
  REQUIRE(files == 1);
  CHECK_FALSE(std::filesystem::exists(dir / "later.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a lab's table is the CSV of its columns, 17 significant digits, read back exactly", "[io]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "nnlab_table_test";
  const char* was = std::getenv("NNLAB_RESULTS");
  const std::string old = was ? was : "";
  ::setenv("NNLAB_RESULTS", dir.c_str(), 1);
  const arma::vec x{0.1, -2.5e-300, 3.0}, y{1.0 / 3.0, 7.0, -0.0};
  const std::string path = plot::write_table("labX", "t.csv", {"x", "y"}, {x, y});
  CHECK(path == (dir / "labX" / "t.csv").string());
  const std::string text = read_file(path);
  CHECK(text.substr(0, text.find('\n')) == "x,y");
  const arma::mat back = parse_csv(text.substr(text.find('\n') + 1), "t.csv");
  REQUIRE(back.n_rows == 3);
  REQUIRE(back.n_cols == 2);
  CHECK(arma::approx_equal(back.col(0), x, "absdiff", 0.0));  // exact: 17 digits round-trip
  CHECK(arma::approx_equal(back.col(1), y, "absdiff", 0.0));
  CHECK_THROWS_AS(plot::write_table("labX", "u.csv", {"x", "y"}, {x, arma::vec{1.0}}), std::logic_error);
  CHECK_FALSE(fs::exists(dir / "labX" / "u.csv"));  // nothing written
  if (was) ::setenv("NNLAB_RESULTS", old.c_str(), 1);
  else ::unsetenv("NNLAB_RESULTS");
  fs::remove_all(dir);
}

TEST_CASE("the fuzzers' seed corpus and every saved crash parse without crashing", "[io][fuzz]") {
  namespace fs = std::filesystem;
  std::size_t n = 0;
  for (const char* sub : {"corpus/model", "corpus/csv", "corpus/checkpoint", "regressions"}) {
    const fs::path d = fs::path(NNLAB_TEST_DIR) / "fuzz" / sub;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d)) {
      const std::string text = read_file(e.path().string());
      try { parse_model(text, "f"); } catch (const InputError&) {}
      try { parse_csv(text, "f"); } catch (const InputError&) {}
      try { train::parse_checkpoint(text, "f"); } catch (const InputError&) {}
      ++n;
    }
  }
  REQUIRE(n >= 10);
}
