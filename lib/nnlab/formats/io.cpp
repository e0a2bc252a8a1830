// Model JSON and data CSV readers and writers (contract section 3).  Strict: every rule
// broken is an InputError naming the file, the place and the problem.
#include "nnlab/formats/io.hpp"

#include "nnlab/core/error.hpp"

#include "nnlab/formats/json_impl.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace nnlab {

using json = nlohmann::json;

namespace {

std::string quote(std::string_view s) {
  std::string o = "'";
  for (std::size_t i = 0; i < s.size() && i < 40; ++i) {
    const unsigned char ch = s[i];
    if (ch >= 32 && ch < 127) o += char(ch);
    else { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", ch); o += b; }
  }
  if (s.size() > 40) o += "...";
  return o + "'";
}

}  // namespace

std::string fmt17(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// ---------------------------------------------------------------------------- model JSON

namespace {

struct DuplicateKey { std::string key; };
struct TooDeep {};
// A model file nests 5 levels (model, layers, layer, W, row); anything far deeper is not a
// model, and refusing it early keeps memory in proportion (a DOM node per bracket).
constexpr int kMaxDepth = 16;

double number_at(const json& v, const std::string& src, const std::string& where) {
  if (!v.is_number()) throw InputError(src + ": " + where + ": not a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw InputError(src + ": " + where + ": not a finite number");
  return d;
}

void only_keys(const json& o, std::initializer_list<const char*> allowed, const std::string& src,
               const std::string& where) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) throw InputError(src + ": " + where + "unknown key " + quote(it.key()));
  }
}

const json& need(const json& o, const char* key, const std::string& src, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end()) throw InputError(src + ": " + where + "missing key '" + key + "'");
  return *it;
}

}  // namespace

namespace detail {

template <class Input> json parse_strict(Input&& in, const std::string& src, int max_depth, const char* what) {
  std::vector<std::set<std::string>> open;
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (depth > max_depth) throw TooDeep{};
    if (ev == json::parse_event_t::object_start) open.emplace_back();
    else if (ev == json::parse_event_t::object_end) open.pop_back();
    else if (ev == json::parse_event_t::key && !open.back().insert(parsed.get<std::string>()).second)
      throw DuplicateKey{parsed.get<std::string>()};
    return true;
  };
  try {
    return json::parse(std::forward<Input>(in), cb);
  } catch (const DuplicateKey& d) {
    throw InputError(src + ": duplicate key " + quote(d.key));
  } catch (const TooDeep&) {
    throw InputError(src + ": JSON nested deeper than " + std::to_string(max_depth) + " levels: not " + what);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    std::string msg = e.what();
    const auto p = msg.find("] ");
    if (p != std::string::npos) msg = msg.substr(p + 2);
    throw InputError(src + ": invalid JSON: " + msg);
  }
}
json parse_json(std::string_view text, const std::string& src, int max_depth, const char* what) {
  return parse_strict(text, src, max_depth, what);
}
json parse_json(std::FILE* f, const std::string& src, int max_depth, const char* what) {
  return parse_strict(f, src, max_depth, what);
}

}  // namespace detail

using detail::model_from_json;

Network<double> parse_model(std::string_view text, const std::string& src) {
  return model_from_json(detail::parse_json(text, src, kMaxDepth, "a model file"), src);
}

Network<double> read_model(const std::string& path) {
  std::FILE* f = open_input(path);
  json j;
  try {
    j = detail::parse_json(f, path, kMaxDepth, "a model file");
  } catch (...) {
    std::fclose(f);
    throw;
  }
  std::fclose(f);
  return model_from_json(j, path);
}

Network<double> detail::model_from_json(const json& j, const std::string& src) {
  if (!j.is_object()) throw InputError(src + ": the model must be a JSON object");
  only_keys(j, {"format", "version", "loss", "l1", "l2", "layers"}, src, "");
  const json& fmt = need(j, "format", src, "");
  if (!fmt.is_string() || fmt.get<std::string>() != "nnlab-model")
    throw InputError(src + ": format: must be \"nnlab-model\"");
  const json& ver = need(j, "version", src, "");
  if (!ver.is_number_integer() || ver.get<long long>() != 1)
    throw InputError(src + ": version: must be the integer 1");
  const json& lo = need(j, "loss", src, "");
  std::optional<Loss> loss = lo.is_string() ? loss_from_name(lo.get<std::string>()) : std::nullopt;
  if (!loss) throw InputError(src + ": loss: must be one of \"mse\", \"bce\", \"ce\", \"hinge\"");

  Network<double> net;
  net.loss = *loss;
  for (const char* k : {"l1", "l2"}) {
    auto it = j.find(k);
    if (it == j.end()) continue;
    const double v = number_at(*it, src, k);
    if (v < 0) throw InputError(src + ": " + k + ": must be >= 0");
    (std::string(k) == "l1" ? net.l1 : net.l2) = v;
  }
  const json& layers = need(j, "layers", src, "");
  if (!layers.is_array() || layers.empty()) throw InputError(src + ": layers: must be a non-empty array");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::string at = "layers[" + std::to_string(l) + "]";
    const json& Lj = layers[l];
    if (!Lj.is_object()) throw InputError(src + ": " + at + ": must be an object");
    only_keys(Lj, {"activation", "W", "b"}, src, at + ": ");
    const json& aj = need(Lj, "activation", src, at + ": ");
    std::optional<Activation> act = aj.is_string() ? activation_from_name(aj.get<std::string>()) : std::nullopt;
    if (!act) throw InputError(src + ": " + at + ".activation: unknown activation " +
                               (aj.is_string() ? quote(aj.get<std::string>()) : std::string("(not a string)")));
    const json& Wj = need(Lj, "W", src, at + ": ");
    const json& bj = need(Lj, "b", src, at + ": ");
    if (!Wj.is_array() || Wj.empty()) throw InputError(src + ": " + at + ".W: must be a non-empty array of rows");
    const std::size_t rows = Wj.size();
    if (!Wj[0].is_array() || Wj[0].empty())
      throw InputError(src + ": " + at + ".W[0]: must be a non-empty array of numbers");
    const std::size_t cols = Wj[0].size();
    if (l > 0 && cols != net.layers[l - 1].W.n_rows)
      throw InputError(src + ": " + at + ".W: rows have " + std::to_string(cols) +
                       " columns, but layer " + std::to_string(l - 1) + " has " +
                       std::to_string(net.layers[l - 1].W.n_rows) + " neurons (sizes do not chain)");
    Layer<double> Ly;
    Ly.act = *act;
    Ly.W.set_size(rows, cols);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::string wr = at + ".W[" + std::to_string(r) + "]";
      if (!Wj[r].is_array()) throw InputError(src + ": " + wr + ": must be an array of numbers");
      if (Wj[r].size() != cols)
        throw InputError(src + ": " + wr + ": has " + std::to_string(Wj[r].size()) + " entries, row 0 has " +
                         std::to_string(cols));
      for (std::size_t c = 0; c < cols; ++c)
        Ly.W(r, c) = number_at(Wj[r][c], src, wr + "[" + std::to_string(c) + "]");
    }
    if (!bj.is_array()) throw InputError(src + ": " + at + ".b: must be an array of numbers");
    if (bj.size() != rows)
      throw InputError(src + ": " + at + ".b: has " + std::to_string(bj.size()) + " entries, W has " +
                       std::to_string(rows) + " rows");
    Ly.b.set_size(rows);
    for (std::size_t r = 0; r < rows; ++r)
      Ly.b(r) = number_at(bj[r], src, at + ".b[" + std::to_string(r) + "]");
    net.layers.push_back(std::move(Ly));
  }
  if (auto req = required_last_activation(net.loss); req && net.layers.back().act != *req)
    throw InputError(src + ": loss \"" + std::string(name(net.loss)) + "\" needs the last activation \"" +
                     std::string(name(*req)) + "\", the last layer has \"" +
                     std::string(name(net.layers.back().act)) + "\"");
  return net;
}

json detail::model_json(const Network<double>& net) { return json::parse(model_to_json(net)); }

std::string model_to_json(const Network<double>& net) {
  std::string s = "{\n  \"format\": \"nnlab-model\",\n  \"version\": 1,\n  \"loss\": \"";
  s += std::string(name(net.loss)) + "\",\n  \"l1\": " + fmt17(net.l1) + ",\n  \"l2\": " + fmt17(net.l2) +
       ",\n  \"layers\": [\n";
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const auto& L = net.layers[l];
    s += "    { \"activation\": \"" + std::string(name(L.act)) + "\",\n      \"W\": [";
    for (arma::uword r = 0; r < L.W.n_rows; ++r) {
      s += r ? ",\n            [" : "[";
      for (arma::uword c = 0; c < L.W.n_cols; ++c) s += (c ? ", " : "") + fmt17(L.W(r, c));
      s += "]";
    }
    s += "],\n      \"b\": [";
    for (arma::uword r = 0; r < L.b.n_elem; ++r) s += (r ? ", " : "") + fmt17(L.b(r));
    s += std::string("] }") + (l + 1 < net.depth() ? ",\n" : "\n");
  }
  return s + "  ]\n}\n";
}

void write_model(const std::string& path, const Network<double>& net) {
  write_file(path, model_to_json(net));
}

// ---------------------------------------------------------------------------- direction

namespace {
Grads<double> direction_from_json(const json& j, const std::string& src, const Network<double>& net) {
  if (!j.is_object()) throw InputError(src + ": must be a JSON object {\"v\": [...]}");
  only_keys(j, {"v"}, src, "");
  const json& v = need(j, "v", src, "");
  if (!v.is_array() || v.size() != net.depth())
    throw InputError(src + ": v: must be an array of " + std::to_string(net.depth()) + " layers (the model's)");
  Grads<double> g;
  for (std::size_t l = 0; l < net.depth(); ++l) {
    const std::string at = "v[" + std::to_string(l) + "]";
    const json& Lj = v[l];
    if (!Lj.is_object()) throw InputError(src + ": " + at + ": must be an object {\"W\": ..., \"b\": ...}");
    only_keys(Lj, {"W", "b"}, src, at + ": ");
    const json& Wj = need(Lj, "W", src, at + ": ");
    const json& bj = need(Lj, "b", src, at + ": ");
    const auto& W = net.layers[l].W;
    if (!Wj.is_array() || Wj.size() != W.n_rows)
      throw InputError(src + ": " + at + ".W: must have " + std::to_string(W.n_rows) + " rows (the model's)");
    g.dW.emplace_back(W.n_rows, W.n_cols);
    for (std::size_t r = 0; r < W.n_rows; ++r) {
      const std::string wr = at + ".W[" + std::to_string(r) + "]";
      if (!Wj[r].is_array() || Wj[r].size() != W.n_cols)
        throw InputError(src + ": " + wr + ": must have " + std::to_string(W.n_cols) + " numbers (the model's)");
      for (std::size_t c = 0; c < W.n_cols; ++c)
        g.dW.back()(r, c) = number_at(Wj[r][c], src, wr + "[" + std::to_string(c) + "]");
    }
    if (!bj.is_array() || bj.size() != W.n_rows)
      throw InputError(src + ": " + at + ".b: must have " + std::to_string(W.n_rows) + " numbers (the model's)");
    g.db.emplace_back(W.n_rows);
    for (std::size_t r = 0; r < W.n_rows; ++r) g.db.back()(r) = number_at(bj[r], src, at + ".b[" + std::to_string(r) + "]");
  }
  return g;
}
}  // namespace

Grads<double> parse_direction(std::string_view text, const std::string& src, const Network<double>& net) {
  return direction_from_json(detail::parse_json(text, src, kMaxDepth, "a direction file"), src, net);
}

Grads<double> read_direction(const std::string& path, const Network<double>& net) {
  std::FILE* f = open_input(path);
  json j;
  try {
    j = detail::parse_json(f, path, kMaxDepth, "a direction file");
  } catch (...) {
    std::fclose(f);
    throw;
  }
  std::fclose(f);
  return direction_from_json(j, path, net);
}

// ---------------------------------------------------------------------------- CSV

namespace {

// The CSV reader, fed in pieces: complete lines are parsed as they arrive, and the unfinished
// last line is checked for a byte no number has, so that a file is refused at its first bad
// byte and memory grows with what was parsed.
class CsvParser {
 public:
  explicit CsvParser(std::string src) : src_(std::move(src)) {}

  void feed(std::string_view chunk) {
    std::size_t pos = 0;
    while (pos < chunk.size()) {
      const std::size_t nl = chunk.find('\n', pos);
      if (nl == std::string_view::npos) {
        carry_.append(chunk.substr(pos));
        if (carry_.find_first_not_of(kNumberBytes) != std::string::npos) line(carry_, true);  // throws
        return;
      }
      if (carry_.empty()) {
        line(chunk.substr(pos, nl - pos), false);
      } else {
        carry_.append(chunk.substr(pos, nl - pos));
        line(carry_, false);
        carry_.clear();
      }
      pos = nl + 1;
    }
  }

  arma::mat finish() {
    if (!carry_.empty()) line(carry_, false);  // the last line, without a final newline
    if (rows_ == 0) throw InputError(src_ + ": no rows (the file is empty)");
    arma::mat M(rows_, cols_);
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t c = 0; c < cols_; ++c) M(r, c) = vals_[r * cols_ + c];
    return M;
  }

 private:
  static constexpr const char* kNumberBytes = "0123456789+-.eE, \t\r";

  // One line (partial: an unfinished line known to hold a bad byte, which it reports).
  void line(std::string_view ln, bool partial) {
    ++line_no_;
    if (!ln.empty() && ln.back() == '\r') ln.remove_suffix(1);
    const std::string at = src_ + ": line " + std::to_string(line_no_);
    if (ln.find_first_not_of(" \t") == std::string_view::npos) throw InputError(at + ": empty line");
    std::size_t col = 0, fpos = 0;
    while (true) {
      ++col;
      const std::size_t comma = ln.find(',', fpos);
      std::string_view f = ln.substr(fpos, comma == std::string_view::npos ? ln.size() - fpos : comma - fpos);
      const std::string where = at + ", column " + std::to_string(col);
      const auto b = f.find_first_not_of(" \t");
      if (b == std::string_view::npos) {
        if (partial) { fpos = comma + 1; if (comma == std::string_view::npos) break; continue; }
        throw InputError(where + ": empty field");
      }
      f = f.substr(b, f.find_last_not_of(" \t") - b + 1);
      if (f.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
        // Two common causes, named on line 1: a spreadsheet's UTF-8 byte-order mark, a header row.
        std::string word(f.substr(f[0] == '+' || f[0] == '-' ? 1 : 0));
        for (char& ch : word) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        const bool special = word == "nan" || word == "inf" || word == "infinity" || word.rfind("0x", 0) == 0;
        const bool text = std::any_of(f.begin(), f.end(), [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); });
        const char* hint = line_no_ > 1 ? ""
                           : col == 1 && f.substr(0, 3) == "\xEF\xBB\xBF"
                               ? " (the file starts with a UTF-8 byte-order mark: save it as CSV without BOM)"
                           : text && !special ? " (no header row: the first line must be numbers)"
                                              : "";
        throw InputError(where + ": " + quote(f) + " is not a decimal number" + hint);
      }
      if (partial) {  // numbers so far; the bad byte is further on
        if (comma == std::string_view::npos) break;
        fpos = comma + 1;
        continue;
      }
      field_.assign(f);
      errno = 0;
      char* e = nullptr;
      const double v = std::strtod(field_.c_str(), &e);
      if (e != field_.c_str() + field_.size() || field_.empty())
        throw InputError(where + ": " + quote(f) + " is not a decimal number");
      if (!std::isfinite(v) || (errno == ERANGE && std::abs(v) == HUGE_VAL))
        throw InputError(where + ": " + quote(f) + " overflows a double");
      if (rows_ > 0 && col > cols_)
        throw InputError(at + ": has more than " + std::to_string(cols_) + " fields (row 1 has " +
                         std::to_string(cols_) + ")");
      vals_.push_back(v);
      if (comma == std::string_view::npos) break;
      fpos = comma + 1;
    }
    if (partial) throw std::logic_error("CsvParser: a line with a bad byte parsed");
    if (rows_ == 0) cols_ = col;
    else if (col != cols_)
      throw InputError(at + ": has " + std::to_string(col) + " fields, row 1 has " + std::to_string(cols_));
    ++rows_;
  }

  std::string src_, carry_, field_;
  std::vector<double> vals_;
  std::size_t cols_ = 0, rows_ = 0, line_no_ = 0;
};

}  // namespace

arma::mat parse_csv(std::string_view text, const std::string& src) {
  CsvParser p(src);
  p.feed(text);
  return p.finish();
}

arma::mat read_csv(const std::string& path) {
  std::FILE* f = open_input(path);
  CsvParser p(path);
  char buf[1 << 16];
  std::size_t got;
  try {
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) p.feed(std::string_view(buf, got));
    if (std::ferror(f)) throw InputError(path + ": read error");
    std::fclose(f);
  } catch (...) {
    std::fclose(f);
    throw;
  }
  return p.finish();
}

std::string csv_to_string(const arma::mat& M, const std::string& header) {
  std::string s = header.empty() ? "" : header + "\n";
  for (arma::uword r = 0; r < M.n_rows; ++r) {
    for (arma::uword c = 0; c < M.n_cols; ++c) {
      if (c) s += ',';
      s += fmt17(M(r, c));
    }
    s += "\n";
  }
  return s;
}

void write_csv(const std::string& path, const arma::mat& M, const std::string& header) {
  write_file(path, csv_to_string(M, header));
}

void validate_targets(Loss loss, const arma::mat& Y, const std::string& src) {
  for (arma::uword r = 0; r < Y.n_rows; ++r) {
    const std::string at = src + ": line " + std::to_string(r + 1);
    double s = 0;
    for (arma::uword c = 0; c < Y.n_cols; ++c) {
      const double y = Y(r, c);
      const std::string where = at + ", column " + std::to_string(c + 1) + ": ";
      switch (loss) {
        case Loss::ce:
          if (y < 0) throw InputError(where + "ce targets must be >= 0, got " + fmt17(y));
          s += y;
          break;
        case Loss::bce:
          if (y < 0 || y > 1) throw InputError(where + "bce targets must lie in [0, 1], got " + fmt17(y));
          break;
        case Loss::hinge:
          if (y != 1 && y != -1) throw InputError(where + "hinge targets must be -1 or +1, got " + fmt17(y));
          break;
        case Loss::mse: break;
      }
    }
    if (loss == Loss::ce && std::abs(s - 1) > 1e-9)
      throw InputError(at + ": ce targets must sum to 1 (within 1e-9), they sum to " + fmt17(s));
  }
}

void validate_data(const Network<double>& net, const arma::mat& X, const std::string& xsrc,
                   const arma::mat& Y, const std::string& ysrc) {
  if (X.n_cols != net.n_in())
    throw InputError(xsrc + ": has " + std::to_string(X.n_cols) + " columns, the model has " +
                     std::to_string(net.n_in()) + " inputs");
  if (Y.n_cols != net.n_out())
    throw InputError(ysrc + ": has " + std::to_string(Y.n_cols) + " columns, the model has " +
                     std::to_string(net.n_out()) + " outputs");
  if (Y.n_rows != X.n_rows)
    throw InputError(ysrc + ": has " + std::to_string(Y.n_rows) + " rows, " + xsrc + " has " +
                     std::to_string(X.n_rows));
  validate_targets(net.loss, Y, ysrc);
}

}  // namespace nnlab
