// Reliability around the edges: files written the one way (links, devices, modes, full disks,
// signals, stale temporaries), outputs that would destroy inputs, memory in proportion,
// address-space limits, non-finite results that must fail, checkpoints treated as input, and
// the run records of what decides the bits.
#include "cli_run.hpp"
#include "helpers.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/runtime/blas.hpp"
#include "nnlab/methods/train.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <sys/stat.h>
#include <thread>

using namespace nnlab;
using test::put;
using test::run;
using test::tmpdir;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string slurp(const std::string& p) { return read_file(p); }
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
// Files in dir whose name contains the temporary files' tag.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".nnlab-tmp.") != std::string::npos) out.push_back(e.path().string());
  return out;
}
fs::path fresh_dir(const std::string& name) {
  const fs::path d = tmpdir() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
const std::string kNet = "train --dataset moons --layers 2,8,1 --activations tanh,sigmoid --loss bce --quiet";
const std::string kTrain = kNet + " --epochs 2";
// Diverges at its third epoch (the loss overflows): two epochs of finite checkpoints first.
const std::string kDiverge =
    "train --dataset moons --layers 2,16,1 --activations tanh,identity --loss mse --optimizer sgd --lr 20 --epochs 6 "
    "--quiet";

}  // namespace

TEST_CASE("write_file: a link planted beside the target is never followed", "[reliability][files]") {
  const fs::path d = fresh_dir("links");
  const std::string victim = put("links/victim.txt", "precious\n"), out = (d / "out.csv").string();
  // The names an attacker could guess: the old predictable temporary, and this process's prefix.
  fs::create_symlink(victim, out + ".tmp." + std::to_string(::getpid()));
  fs::create_symlink(victim, (d / (".out.csv.nnlab-tmp." + std::to_string(::getpid()) + ".aaaaaaaaaa")).string());
  write_file(out, "1,2\n");
  CHECK(slurp(victim) == "precious\n");
  CHECK(slurp(out) == "1,2\n");
  CHECK(fs::is_regular_file(fs::symlink_status(out)));
}

TEST_CASE("--out /dev/null: the device is written in place, and nothing is created beside it", "[reliability][cli]") {
  REQUIRE(run(kTrain + " --out /dev/null").code == 0);
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK_FALSE(fs::exists("/dev/null.run.json"));
}

TEST_CASE("write_file: a device is written in place, never replaced; a full disk is a failed write",
          "[reliability][files]") {
  write_file("/dev/null", "anything\n");
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(error_of([] { write_file("/dev/full", std::string(100000, 'x')); }) ==
        "/dev/full: cannot write: No space left on device");
}

TEST_CASE("write_file keeps the mode of the file it replaces; a new file gets 0666 less the umask",
          "[reliability][files]") {
  const std::string p = put("mode.csv", "old\n");
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  write_file(p, "new\n");
  CHECK(fs::status(p).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(slurp(p) == "new\n");
  const mode_t mask = ::umask(0);
  ::umask(mask);
  const std::string q = (tmpdir() / "new_mode.csv").string();
  fs::remove(q);
  write_file(q, "x\n");
  struct stat st {};
  REQUIRE(::stat(q.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (0666 & ~mask));
}

TEST_CASE("a stale temporary of a killed writer is removed by the next write; a live writer's is kept",
          "[reliability][files]") {
  const fs::path d = fresh_dir("stale");
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  ::waitpid(dead, nullptr, 0);  // its pid now belongs to no process
  const std::string stale = put("stale/.r.csv.nnlab-tmp." + std::to_string(dead) + ".k3j5h6g7f8", "partial");
  const std::string live = put("stale/.r.csv.nnlab-tmp." + std::to_string(::getppid()) + ".q1w2e3r4t5", "partial");
  const std::string other = put("stale/.s.csv.nnlab-tmp." + std::to_string(dead) + ".k3j5h6g7f8", "partial");
  write_file((d / "r.csv").string(), "1\n");
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));   // its writer (our parent) still runs
  CHECK(fs::exists(other));  // another target's
}

TEST_CASE("SIGINT and SIGTERM during a write remove the temporary file and end with 128 + signal",
          "[reliability][files][signals]") {
  // memorize writes a 48 MB model: long enough to be caught writing.
  std::string x, y;
  for (int i = 0; i < 2000; ++i) {
    x += std::to_string(i % 50) + "," + std::to_string(i / 50) + "\n";
    y += std::to_string(i % 7) + "\n";
  }
  const std::string xs = put("sig_x.csv", x), ys = put("sig_y.csv", y);
  for (int sig : {SIGTERM, SIGINT}) {
    bool caught = false;
    for (int attempt = 0; attempt < 5 && !caught; ++attempt) {
      const fs::path d = fresh_dir("signals");
      const std::string out = (d / "mem.json").string();
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::execl(NNLAB_EXE, NNLAB_EXE, "memorize", "--x", xs.c_str(), "--y", ys.c_str(), "--out", out.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
      REQUIRE(pid > 0);
      const auto t0 = std::chrono::steady_clock::now();
      while (temporaries(d).empty() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) break;  // finished before we saw it writing
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      if (temporaries(d).empty()) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        continue;
      }
      ::kill(pid, sig);
      int st = 0;
      REQUIRE(::waitpid(pid, &st, 0) == pid);
      if (WIFEXITED(st) && WEXITSTATUS(st) == 0) continue;  // the rename won the race
      caught = true;
      INFO("signal " << sig);
      CHECK(WIFSIGNALED(st));
      CHECK(WTERMSIG(st) == sig);
      CHECK(temporaries(d).empty());
      CHECK_FALSE(fs::exists(out));
    }
    CHECK(caught);
  }
}

TEST_CASE("an output that names an input or another output is refused before any work", "[reliability][cli]") {
  const std::string x = put("io_x.csv", "1,2\n3,4\n5,6\n"), y = put("io_y.csv", "1\n0\n1\n");
  const std::string net = " --layers 2,3,1 --activations tanh,sigmoid --loss bce --epochs 1 --val 0 --quiet";
  const std::string link = (tmpdir() / "io_link.csv").string();
  fs::remove(link);
  fs::create_symlink(x, link);
  const std::string out = (tmpdir() / "io_m.json").string(), log = (tmpdir() / "io_log.csv").string();
  struct Case { std::string args, says; };
  const Case cases[] = {
      {"train --x " + x + " --y " + y + net + " --out " + x, "--out " + x + ": is the input --x"},
      {"train --x " + x + " --y " + y + net + " --out " + link, "is the input --x"},
      {"train --x " + x + " --y " + y + net + " --out " + out + " --log " + y, "--log " + y + ": is the input --y"},
      {"train --x " + x + " --y " + y + net + " --out " + out + " --log " + out, "--log " + out + ": is also --out"},
      {"train --x " + x + " --y " + y + net + " --out " + out + " --checkpoint " + log + " --log " + log,
       "is also --log"},
      {"memorize --x " + x + " --y " + y + " --out " + y, "--out " + y + ": is the input --y"},
      {"double-descent --x " + x + " --y " + y + " --n-train 2 --features 3 --out " + x, "is the input --x"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(test::lines(r.err) == 1);
  }
  CHECK(slurp(x) == "1,2\n3,4\n5,6\n");
  CHECK(slurp(y) == "1\n0\n1\n");
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("stdout: a failed write (a full disk) is an error exit that names stdout, never 0", "[reliability][cli]") {
  const auto c = test::make_case(3, 2, Activation::tanh, Loss::mse, 5);
  const std::string m = put("so.json", model_to_json(c.net)), x = put("so_x.csv", csv_to_string(c.X.t())),
                    y = put("so_y.csv", csv_to_string(c.Y.t()));
  const std::string xy = " --x " + x + " --y " + y;
  for (const std::string& args :
       {"grad --model " + m + xy, "predict --model " + m + " --x " + x, "evaluate --model " + m + xy,
        "gradcheck --model " + m + xy, "gauss-newton --x " + put("so_gx.csv", "1\n2\n3\n") + " --y " +
            put("so_gy.csv", "0.2\n0.4\n0.7\n"), std::string("--version")}) {
    const auto r = run(args, "", "/dev/full");
    INFO(args << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find("stdout: cannot write: No space left on device") != std::string::npos);
  }
}

TEST_CASE("a run that fails leaves --out, --log and --checkpoint as they were; its checkpoint reads back",
          "[reliability][cli][train]") {
  const std::string out = put("fail_m.json", "old model\n"), log = put("fail_log.csv", "old log\n");
  const std::string ck = (tmpdir() / "fail_ck.json").string();
  fs::remove(ck);
  const auto r = run(kDiverge + " --out " + out + " --log " + log + " --checkpoint " + ck);
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("diverged at epoch 3") != std::string::npos);
  CHECK(slurp(out) == "old model\n");
  CHECK(slurp(log) == "old log\n");
  // The checkpoint of the last finite epoch: it reads back, every number finite.
  const train::Checkpoint c = train::read_checkpoint(ck);
  CHECK(c.epoch == 2);
  CHECK(slurp(ck).find("nan") == std::string::npos);
  CHECK(slurp(ck).find("inf") == std::string::npos);
}

TEST_CASE("checkpoints are input: an edited one is refused by key, another configuration by option",
          "[reliability][cli][train][checkpoint]") {
  const std::string ck = (tmpdir() / "ck.json").string(), out = (tmpdir() / "ck_m.json").string();
  fs::remove(ck);
  REQUIRE(run(kTrain + " --seed 3 --out " + out + " --checkpoint " + ck).code == 0);
  const json good = json::parse(slurp(ck));
  struct Edit { std::function<void(json&)> f; std::string says; };
  const Edit edits[] = {
      {[](json& j) { j["epoch"] = "abc"; }, "epoch: not an integer"},
      {[](json& j) { j["epoch"] = 2147483648LL; }, "epoch: must be an integer from 1 to 1000000"},
      {[](json& j) { j["epoch"] = -5; }, "epoch: must be an integer from 1 to 1000000"},
      {[](json& j) { j.erase("history"); }, "missing key 'history'"},
      {[](json& j) { j["history"].erase(1); }, "history: must have one row per epoch (2)"},
      {[](json& j) { j["best_epoch"] = 7; }, "best_epoch: must be an integer from 1 to 2"},
      {[](json& j) { j["model"]["layers"][0]["W"][0][0] = "w"; }, "not a number"},
      {[](json& j) { j["optimizer"]["state"][0].erase(0); }, "optimizer.state[0]: must hold"},
      {[](json& j) { j["config"]["seed"] = -1; }, "config.seed: must be an integer >= 0"},
      {[](json& j) { j["extra"] = 1; }, "unknown key 'extra'"},
  };
  for (const auto& e : edits) {
    json j = good;
    e.f(j);
    write_file(ck, j.dump());
    const auto r = run(kNet + " --seed 3 --epochs 4 --out " + out + " --checkpoint " + ck + " --resume");
    INFO(e.says << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(ck + ": ") == 0);
    CHECK(r.err.find(e.says) != std::string::npos);
    CHECK(test::lines(r.err) == 1);
  }
  write_file(ck, good.dump());
  const std::pair<std::string, std::string> others[] = {
      {" --seed 4", "this run has --seed 4 (the checkpoint has 3)"},
      {" --seed 3 --lr 0.5", "this run has --lr 0.5 (the checkpoint has 0.001)"},
      {" --seed 3 --optimizer sgd", "this run has --optimizer sgd (the checkpoint has adam)"},
      {" --seed 3 --batch 16", "this run has --batch 16"},
      {" --seed 3 --standardize", "the data"},
  };
  for (const auto& [opts, says] : others) {
    const auto r = run(kNet + opts + " --epochs 4 --out " + out + " --checkpoint " + ck + " --resume");
    INFO(opts << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(says) != std::string::npos);
  }
  const auto other_acts =
      run("train --dataset moons --layers 2,8,1 --activations relu,sigmoid --loss bce --seed 3 --epochs 4 --quiet --out " +
          out + " --checkpoint " + ck + " --resume");
  CHECK(other_acts.err.find("--activations relu,sigmoid (the checkpoint has tanh,sigmoid)") != std::string::npos);
  const auto past = run(kNet + " --seed 3 --epochs 1 --out " + out + " --checkpoint " + ck + " --resume");
  CHECK(past.code == 2);
  CHECK(past.err.find("at epoch 2, past --epochs 1") != std::string::npos);
  // and the unedited one resumes
  CHECK(run(kNet + " --seed 3 --epochs 4 --out " + out + " --checkpoint " + ck + " --resume").code == 0);
}

TEST_CASE("train and double-descent record what decides their bits beside their output", "[reliability][cli]") {
  const std::string out = (tmpdir() / "rec_m.json").string();
  REQUIRE(run(kTrain + " --seed 5 --backend openmp --threads 2 --out " + out).code == 0);
  const json t = json::parse(slurp(out + ".run.json"));
  CHECK(t["command"] == "train");
  CHECK(t["seed"] == 5);
  CHECK(t["backend"] == "openmp");
  CHECK(t["threads"] == 2);
  CHECK(t["blas"]["kernels"].get<std::string>() == blas_core());
  CHECK(t["bits"].get<std::string>().find("any --threads") != std::string::npos);
  REQUIRE(run(kTrain + " --seed 5 --backend matrix --threads 2 --out " + out).code == 0);
  CHECK(json::parse(slurp(out + ".run.json"))["bits"].get<std::string>().find("only with the same --threads") !=
        std::string::npos);
  const std::string csv = (tmpdir() / "rec_dd.csv").string();
  REQUIRE(run("double-descent --dataset moons --n-train 40 --n-test 40 --features 5,10 --seed 9 --out " + csv).code == 0);
  const json d = json::parse(slurp(csv + ".run.json"));
  CHECK(d["command"] == "double-descent");
  CHECK(d["seed"] == 9);
  CHECK(d["threads"].get<int>() >= 1);
}

TEST_CASE("an address-space limit too small for OpenBLAS is one clear line, not a hang", "[reliability][memory]") {
  const auto r = run("--version", "ulimit -v 150000;");
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("the address-space limit (ulimit -v) is 146 MiB") != std::string::npos);
  CHECK(test::lines(r.err) == 1);
}

TEST_CASE("readers stream: a file valid at first and then full of NUL bytes is refused at its first bad byte",
          "[reliability][memory]") {
  const std::string p = put("nul.csv", "1,2\n3,4\n");
  fs::resize_file(p, std::uintmax_t(1) << 30);  // 1 GiB: the rest is NUL bytes (sparse)
  const auto t0 = std::chrono::steady_clock::now();
  const std::string m = put("nul.json", model_to_json(test::make_case(1, 1, Activation::tanh, Loss::mse, 2).net));
  // Under a 700 MB address space the whole file could not even be held.
  const auto r = run("predict --model " + m + " --x " + p, "ulimit -v 700000;");
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find(p + ": line 3, column 1: '\\x00") == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
  fs::remove(p);
}

TEST_CASE("sizes the options ask for are checked before anything is allocated", "[reliability][memory]") {
  const auto r = run("double-descent --dataset moons --n-train 1073741824 --features 10 --out " +
                         (tmpdir() / "big.csv").string(),
                     "ulimit -v 2000000;");
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("need about") != std::string::npos);
  CHECK_FALSE(fs::exists(tmpdir() / "big.csv"));
}

TEST_CASE("an allocation failure inside the OpenMP sweep is exit 2 with what was too big, not an abort",
          "[reliability][memory]") {
  // One fit of p = 20000 features on 2000 samples needs about 1 GB: more than the limit allows.
  const auto r = run("double-descent --dataset moons --n-train 2000 --n-test 2000 --features 10,20000 --threads 2 --out " +
                         (tmpdir() / "oom.csv").string(),
                     "ulimit -v 800000;");
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("out of memory fitting p = 20000 features") != std::string::npos);
  CHECK_FALSE(fs::exists(tmpdir() / "oom.csv"));
}

TEST_CASE("nothing non-finite passes: gradcheck where J overflows, a double-descent column", "[reliability][cli]") {
  // a^2 / 2 with a = w x near 1.34e154: finite at w, overflowing a step of the stencil away.
  Network<double> net;
  net.loss = Loss::mse;
  net.layers.push_back({Activation::identity, arma::mat(1, 1, arma::fill::value(1.34e154)), arma::vec(1, arma::fill::zeros)});
  const std::string m = put("ovf.json", model_to_json(net)), x = put("ovf_x.csv", "1\n"), y = put("ovf_y.csv", "0\n");
  const auto r = run("gradcheck --model " + m + " --x " + x + " --y " + y);
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  CHECK(r.out.find("non-finite") != std::string::npos);
  CHECK(r.err.find("FAILED") != std::string::npos);
  // One training sample: its centred features are all zero, the condition number infinite.
  const std::string out = (tmpdir() / "inf.csv").string();
  const auto d = run("double-descent --x " + put("dd1_x.csv", "1,2\n3,4\n5,6\n") + " --y " +
                     put("dd1_y.csv", "1\n-1\n1\n") + " --n-train 1 --features 4 --out " + out);
  INFO(d.err);
  CHECK(d.code == 1);
  CHECK(d.err.find("condition is inf at p = 4") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("the commands documented to give the same bits for any --threads do", "[reliability][cli][threads]") {
  // Sizes above the openmp backend's parallel threshold, so that two threads really share the work.
  const std::string train = "train --dataset spirals --layers 2,64,64,3 --activations tanh,relu,softmax --loss ce "
                            "--batch 512 --epochs 2 --seed 4 --quiet";
  const std::string a = (tmpdir() / "thr_1.json").string(), b = (tmpdir() / "thr_2.json").string();
  for (const char* be : {"openmp", "mpi"}) {
    REQUIRE(run(train + " --backend " + be + " --threads 1 --out " + a).code == 0);
    REQUIRE(run(train + " --backend " + be + " --threads 2 --out " + b).code == 0);
    INFO(be);
    CHECK(slurp(a) == slurp(b));
  }
  const auto net = random_network<double>({20, 64, 64, 3}, {Activation::tanh, Activation::relu, Activation::softmax},
                                          Loss::ce, 8, 0.5);
  arma::mat X = arma::randn(300, 20), Y(300, 3, arma::fill::zeros);
  for (arma::uword i = 0; i < 300; ++i) Y(i, i % 3) = 1;
  const std::string m = put("thr.json", model_to_json(net)), x = put("thr_x.csv", csv_to_string(X)),
                    y = put("thr_y.csv", csv_to_string(Y));
  const auto g1 = run("grad --backend openmp --threads 1 --model " + m + " --x " + x + " --y " + y);
  const auto g2 = run("grad --backend openmp --threads 2 --model " + m + " --x " + x + " --y " + y);
  REQUIRE(g1.code == 0);
  CHECK(g1.out == g2.out);
  const std::string d1 = (tmpdir() / "thr_1.csv").string(), d2 = (tmpdir() / "thr_2.csv").string();
  const std::string dd = "double-descent --dataset moons --n-train 60 --n-test 60 --features 10,40,80 --trials 2 --out ";
  REQUIRE(run(dd + d1 + " --threads 1").code == 0);
  REQUIRE(run(dd + d2 + " --threads 2").code == 0);
  CHECK(slurp(d1) == slurp(d2));
}
