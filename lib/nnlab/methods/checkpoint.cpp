// The training checkpoint: its configuration record, writer and strict reader (see train.hpp).
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/formats/json_impl.hpp"
#include "nnlab/methods/train.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace nnlab::train {

using json = nlohmann::json;

namespace {

constexpr int kMaxEpochs = 1000000;  // the command line's limit for --epochs
constexpr int kMaxDepth = 16;        // a checkpoint nests 6 levels

// ---- the reader's checks: each names the key and says what it must be.
struct Reader {
  const std::string& src;
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw InputError(src + ": " + where + ": " + what);
  }
  const json& need(const json& o, const char* key, const std::string& at) const {
    const auto it = o.find(key);
    if (it == o.end()) fail(at.empty() ? std::string(key) : at, std::string("missing key '") + key + "'");
    return *it;
  }
  void only(const json& o, std::initializer_list<const char*> keys, const std::string& at) const {
    if (!o.is_object()) fail(at, "must be an object");
    for (auto it = o.begin(); it != o.end(); ++it) {
      bool ok = false;
      for (const char* k : keys) ok = ok || it.key() == k;
      if (!ok) fail(at.empty() ? it.key() : at, "unknown key '" + it.key() + "'");
    }
    for (const char* k : keys) need(o, k, at.empty() ? std::string(k) : at);
  }
  double number(const json& v, const std::string& at, double lo, double hi) const {
    if (!v.is_number()) fail(at, "not a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
      char b[96];
      std::snprintf(b, sizeof b, "must be a finite number in [%g, %g]", lo, hi);
      fail(at, b);
    }
    return d;
  }
  long long integer(const json& v, const std::string& at, long long lo, long long hi) const {
    if (!v.is_number_integer()) fail(at, "not an integer");
    if (v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi))
      fail(at, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    const long long i = v.get<long long>();
    if (i < lo || i > hi) fail(at, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return i;
  }
  std::string text(const json& v, const std::string& at, std::initializer_list<const char*> allowed = {}) const {
    if (!v.is_string()) fail(at, "not a string");
    const std::string s = v.get<std::string>();
    if (allowed.size() == 0) return s;
    std::string list;
    for (const char* a : allowed) {
      if (s == a) return s;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(at, "must be one of " + list);
  }
};

RunConfig config_from(const json& c, const Reader& rd) {
  rd.only(c, {"sizes", "activations", "loss", "l1", "l2", "optimizer", "lr", "batch", "schedule", "decay",
              "step_size", "gamma", "seed", "val", "precision", "backend", "threads", "samples", "data_hash"},
          "config");
  RunConfig r;
  const json& sizes = c["sizes"];
  if (!sizes.is_array() || sizes.size() < 2 || sizes.size() > 1000) rd.fail("config.sizes", "must be 2 to 1000 sizes");
  for (std::size_t i = 0; i < sizes.size(); ++i)
    r.sizes.push_back(std::size_t(rd.integer(sizes[i], "config.sizes[" + std::to_string(i) + "]", 1, 100000000)));
  const json& acts = c["activations"];
  if (!acts.is_array() || acts.size() + 1 != sizes.size()) rd.fail("config.activations", "must be one name per layer");
  for (std::size_t i = 0; i < acts.size(); ++i) {
    const std::string at = "config.activations[" + std::to_string(i) + "]";
    const std::string a = rd.text(acts[i], at);
    if (!activation_from_name(a)) rd.fail(at, "unknown activation '" + a + "'");
    r.activations.push_back(a);
  }
  r.loss = rd.text(c["loss"], "config.loss", {"mse", "bce", "ce", "hinge"});
  r.l1 = rd.number(c["l1"], "config.l1", 0, 1e300);
  r.l2 = rd.number(c["l2"], "config.l2", 0, 1e300);
  r.optimizer = rd.text(c["optimizer"], "config.optimizer", {"sgd", "momentum", "adam", "gd-linesearch"});
  r.lr = rd.number(c["lr"], "config.lr", 1e-300, 1e300);
  r.batch = std::size_t(rd.integer(c["batch"], "config.batch", 1, 1LL << 30));
  r.schedule = rd.text(c["schedule"], "config.schedule", {"constant", "inverse", "step"});
  r.decay = rd.number(c["decay"], "config.decay", 0, 1e300);
  r.step_size = int(rd.integer(c["step_size"], "config.step_size", 1, kMaxEpochs));
  r.gamma = rd.number(c["gamma"], "config.gamma", 1e-300, 1e300);
  if (!c["seed"].is_number_unsigned()) rd.fail("config.seed", "must be an integer >= 0");
  r.seed = c["seed"].get<std::uint64_t>();
  r.val = rd.number(c["val"], "config.val", 0, 0.99);
  r.precision = rd.text(c["precision"], "config.precision", {"float", "double"});
  r.backend = rd.text(c["backend"], "config.backend", {"naive", "matrix", "openmp", "graph", "mpi"});
  r.threads = int(rd.integer(c["threads"], "config.threads", 1, 4096));
  r.samples = std::size_t(rd.integer(c["samples"], "config.samples", 1, 1LL << 40));
  r.data_hash = rd.text(c["data_hash"], "config.data_hash");
  if (r.data_hash.size() != 16 || r.data_hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    rd.fail("config.data_hash", "must be 16 hexadecimal digits");
  return r;
}

json config_json(const RunConfig& r) {
  return {{"sizes", r.sizes},         {"activations", r.activations}, {"loss", r.loss},        {"l1", r.l1},
          {"l2", r.l2},               {"optimizer", r.optimizer},     {"lr", r.lr},            {"batch", r.batch},
          {"schedule", r.schedule},   {"decay", r.decay},             {"step_size", r.step_size}, {"gamma", r.gamma},
          {"seed", r.seed},           {"val", r.val},                 {"precision", r.precision}, {"backend", r.backend},
          {"threads", r.threads},     {"samples", r.samples},         {"data_hash", r.data_hash}};
}

// The optimizer's state arrays for a network of these sizes: Sgd and the line search none,
// momentum one velocity per parameter block, Adam two (m, then v), in the order dW[0], db[0], ...
std::vector<std::size_t> state_sizes(const RunConfig& r) {
  std::vector<std::size_t> blocks;
  for (std::size_t l = 1; l < r.sizes.size(); ++l) {
    blocks.push_back(r.sizes[l] * r.sizes[l - 1]);
    blocks.push_back(r.sizes[l]);
  }
  const int copies = r.optimizer == "adam" ? 2 : r.optimizer == "momentum" ? 1 : 0;
  std::vector<std::size_t> out;
  for (int c = 0; c < copies; ++c) out.insert(out.end(), blocks.begin(), blocks.end());
  return out;
}

Checkpoint checkpoint_from(const json& j, const std::string& src) {
  const Reader rd{src};
  if (!j.is_object()) throw InputError(src + ": a checkpoint must be a JSON object");
  rd.only(j, {"format", "version", "config", "epoch", "model", "best", "best_epoch", "best_val", "history", "optimizer"},
          "");
  if (rd.text(j["format"], "format") != "nnlab-checkpoint") rd.fail("format", "must be \"nnlab-checkpoint\"");
  rd.integer(j["version"], "version", 1, 1);
  Checkpoint c;
  c.config = config_from(j["config"], rd);
  c.epoch = int(rd.integer(j["epoch"], "epoch", 1, kMaxEpochs));
  c.model = detail::model_from_json(j["model"], src + ": model");
  c.best = detail::model_from_json(j["best"], src + ": best");
  for (const auto* m : {&c.model, &c.best}) {
    const char* which = m == &c.model ? "model" : "best";
    if (m->sizes() != c.config.sizes) rd.fail(which, "its layer sizes are not the configuration's");
    for (std::size_t l = 0; l < m->depth(); ++l)
      if (name(m->layers[l].act) != c.config.activations[l]) rd.fail(which, "its activations are not the configuration's");
    if (name(m->loss) != c.config.loss) rd.fail(which, "its loss is not the configuration's");
  }
  c.best_epoch = int(rd.integer(j["best_epoch"], "best_epoch", 1, c.epoch));
  c.best_val = rd.number(j["best_val"], "best_val", -1, 1);
  const json& h = j["history"];
  if (!h.is_array() || h.size() != std::size_t(c.epoch))
    rd.fail("history", "must have one row per epoch (" + std::to_string(c.epoch) + ")");
  for (std::size_t i = 0; i < h.size(); ++i) {
    const std::string at = "history[" + std::to_string(i) + "]";
    if (!h[i].is_array() || h[i].size() != 7)
      rd.fail(at, "must be [epoch, lr, train_loss, train_acc, val_loss, val_acc, seconds]");
    Epoch e;
    e.epoch = int(rd.integer(h[i][0], at + "[0]", long(i) + 1, long(i) + 1));
    e.lr = rd.number(h[i][1], at + "[1]", 0, 1e300);
    e.train_loss = rd.number(h[i][2], at + "[2]", -1e300, 1e300);
    e.train_acc = rd.number(h[i][3], at + "[3]", 0, 1);
    e.val_loss = rd.number(h[i][4], at + "[4]", -1e300, 1e300);
    e.val_acc = rd.number(h[i][5], at + "[5]", 0, 1);
    e.seconds = rd.number(h[i][6], at + "[6]", 0, 1e300);
    c.history.push_back(e);
  }
  const json& o = j["optimizer"];
  rd.only(o, {"t", "state"}, "optimizer");
  c.opt_t = long(rd.integer(o["t"], "optimizer.t", 0, 1LL << 53));
  const auto sizes = state_sizes(c.config);
  if (!o["state"].is_array() || o["state"].size() != sizes.size())
    rd.fail("optimizer.state", "must hold " + std::to_string(sizes.size()) + " arrays for " + c.config.optimizer);
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const std::string at = "optimizer.state[" + std::to_string(k) + "]";
    const json& a = o["state"][k];
    if (!a.is_array() || a.size() != sizes[k]) rd.fail(at, "must hold " + std::to_string(sizes[k]) + " numbers");
    std::vector<double> v;
    v.reserve(sizes[k]);
    for (std::size_t i = 0; i < a.size(); ++i) v.push_back(rd.number(a[i], at + "[" + std::to_string(i) + "]", -1e300, 1e300));
    c.opt_state.push_back(std::move(v));
  }
  return c;
}

}  // namespace

std::string config_difference(const RunConfig& a, const RunConfig& b) {
  const auto list = [](const auto& v) {
    std::string s;
    for (const auto& x : v) {
      std::ostringstream o;
      o << x;
      s += (s.empty() ? "" : ",") + o.str();
    }
    return s;
  };
  const auto num = [](double v) {  // the shortest text that reads back as v
    char b[40];
    const auto r = std::to_chars(b, b + sizeof b, v);
    return std::string(b, r.ptr);
  };
  if (a.sizes != b.sizes) return "--layers " + list(b.sizes) + " (the checkpoint has " + list(a.sizes) + ")";
  if (a.activations != b.activations)
    return "--activations " + list(b.activations) + " (the checkpoint has " + list(a.activations) + ")";
  const std::pair<const char*, std::pair<std::string, std::string>> texts[] = {
      {"--loss", {a.loss, b.loss}},           {"--optimizer", {a.optimizer, b.optimizer}},
      {"--schedule", {a.schedule, b.schedule}}, {"--precision", {a.precision, b.precision}},
      {"--backend", {a.backend, b.backend}}};
  for (const auto& [opt, v] : texts)
    if (v.first != v.second) return std::string(opt) + " " + v.second + " (the checkpoint has " + v.first + ")";
  std::vector<std::pair<const char*, std::pair<double, double>>> nums = {
      {"--l1", {a.l1, b.l1}}, {"--l2", {a.l2, b.l2}}, {"--lr", {a.lr, b.lr}}, {"--batch", {double(a.batch), double(b.batch)}},
      {"--val", {a.val, b.val}}};
  if (a.schedule == "inverse") nums.push_back({"--decay", {a.decay, b.decay}});
  if (a.schedule == "step") {
    nums.push_back({"--step-size", {double(a.step_size), double(b.step_size)}});
    nums.push_back({"--gamma", {a.gamma, b.gamma}});
  }
  // The matrix and graph backends' bits depend on the BLAS threads; the others' do not.
  if (a.backend == "matrix" || a.backend == "graph") nums.push_back({"--threads", {double(a.threads), double(b.threads)}});
  for (const auto& [opt, v] : nums)
    if (v.first != v.second) return std::string(opt) + " " + num(v.second) + " (the checkpoint has " + num(v.first) + ")";
  if (a.seed != b.seed) return "--seed " + std::to_string(b.seed) + " (the checkpoint has " + std::to_string(a.seed) + ")";
  if (a.samples != b.samples || a.data_hash != b.data_hash)
    return "the data (--x/--y, or --dataset with its --seed, or --standardize): " + std::to_string(b.samples) +
           " samples, fingerprint " + b.data_hash + " (the checkpoint has " + std::to_string(a.samples) + ", " +
           a.data_hash + ")";
  return "";
}

Checkpoint parse_checkpoint(std::string_view text, const std::string& source) {
  return checkpoint_from(detail::parse_json(text, source, kMaxDepth, "a checkpoint"), source);
}

Checkpoint read_checkpoint(const std::string& path) {
  std::FILE* f = open_input(path);
  json j;
  try {
    j = detail::parse_json(f, path, kMaxDepth, "a checkpoint");
  } catch (...) {
    std::fclose(f);
    throw;
  }
  std::fclose(f);
  return checkpoint_from(j, path);
}

std::string checkpoint_to_json(const Checkpoint& c) {
  json h = json::array();
  for (const auto& e : c.history) h.push_back({e.epoch, e.lr, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.seconds});
  json j = {{"format", "nnlab-checkpoint"},
            {"version", 1},
            {"config", config_json(c.config)},
            {"epoch", c.epoch},
            {"model", detail::model_json(c.model)},
            {"best", detail::model_json(c.best)},
            {"best_epoch", c.best_epoch},
            {"best_val", c.best_val},
            {"history", h},
            {"optimizer", {{"t", c.opt_t}, {"state", c.opt_state}}}};
  return j.dump() + "\n";
}


}  // namespace nnlab::train
