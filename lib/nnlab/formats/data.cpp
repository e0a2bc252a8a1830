// Built-in data sets and data plumbing (see nnlab/formats/data.hpp).
#include "nnlab/formats/data.hpp"

#include "nnlab/core/error.hpp"

#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <optional>
#include <random>

namespace nnlab::data {

namespace {
// seed: the generators' seed; none for a fixed set (xor4).
Dataset make(const std::string& name, std::size_t m, std::size_t classes, std::optional<std::uint64_t> seed) {
  Dataset d;
  d.name = name;
  d.X.set_size(2, m);
  d.labels.set_size(m);
  d.classes = classes;
  d.seed = seed.value_or(0);
  d.generated = seed.has_value();
  return d;
}
}  // namespace

Dataset xor4() {
  Dataset d = make("xor4", 4, 2, std::nullopt);
  const double pts[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
  for (int i = 0; i < 4; ++i) {
    d.X(0, i) = pts[i][0];
    d.X(1, i) = pts[i][1];
    d.labels[i] = i < 2 ? 1 : 0;
  }
  return d;
}

Dataset moons(std::size_t m, double noise, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, noise);
  Dataset d = make("moons", m, 2, seed);
  const std::size_t m0 = m / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const bool upper = i < m0;
    const std::size_t k = upper ? i : i - m0, cnt = upper ? m0 : m - m0;
    const double t = M_PI * double(k) / double(std::max<std::size_t>(cnt - 1, 1));
    d.X(0, i) = (upper ? std::cos(t) : 1 - std::cos(t)) + N(rng);
    d.X(1, i) = (upper ? std::sin(t) : 0.5 - std::sin(t)) + N(rng);
    d.labels[i] = upper ? 0 : 1;
  }
  return d;
}

Dataset circles(std::size_t m, double noise, double factor, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, noise);
  Dataset d = make("circles", m, 2, seed);
  const std::size_t m0 = m / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const bool outer = i < m0;
    const std::size_t k = outer ? i : i - m0, cnt = outer ? m0 : m - m0;
    const double t = 2 * M_PI * double(k) / double(cnt), r = outer ? 1.0 : factor;
    d.X(0, i) = r * std::cos(t) + N(rng);
    d.X(1, i) = r * std::sin(t) + N(rng);
    d.labels[i] = outer ? 0 : 1;
  }
  return d;
}

Dataset spirals(std::size_t m, std::size_t K, double noise, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  Dataset d = make("spirals", m, K, seed);
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t c = i % K, k = i / K, per = (m + K - 1) / K;
    const double r = double(k) / double(per);                      // radius 0..1
    const double t = 4.0 * double(c) + 4.0 * r + noise * N(rng);  // angle, 4 radians per arm
    d.X(0, i) = r * std::sin(t);
    d.X(1, i) = r * std::cos(t);
    d.labels[i] = c;
  }
  return d;
}

Dataset blobs(std::size_t m, std::size_t K, double sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, sd);
  Dataset d = make("blobs", m, K, seed);
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t c = i % K;
    const double a = 2 * M_PI * double(c) / double(K);
    d.X(0, i) = 3 * std::cos(a) + N(rng);
    d.X(1, i) = 3 * std::sin(a) + N(rng);
    d.labels[i] = c;
  }
  return d;
}

namespace {
std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw InputError(path + ": cannot open (install the Debian package dataset-fashion-mnist: "
                     "apt-get install dataset-fashion-mnist)");
  std::string s;
  char buf[1 << 16];
  int got;
  while ((got = gzread(f, buf, sizeof buf)) > 0) s.append(buf, std::size_t(got));
  const bool bad = got < 0;
  gzclose(f);
  if (bad) throw InputError(path + ": not a valid gzip file");
  return s;
}
std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}
}  // namespace

Dataset fashion_mnist(bool test, const std::string& dir) {
  const std::string pre = dir + "/" + (test ? "t10k" : "train");
  const std::string img = gunzip(pre + "-images-idx3-ubyte.gz"), lab = gunzip(pre + "-labels-idx1-ubyte.gz");
  if (img.size() < 16 || be32(img, 0) != 0x803) throw InputError(pre + "-images-idx3-ubyte.gz: not an IDX image file");
  if (lab.size() < 8 || be32(lab, 0) != 0x801) throw InputError(pre + "-labels-idx1-ubyte.gz: not an IDX label file");
  const std::size_t m = be32(img, 4), rows = be32(img, 8), cols = be32(img, 12);
  if (be32(lab, 4) != m || img.size() != 16 + m * rows * cols || lab.size() != 8 + m)
    throw InputError(pre + ": image and label files do not match");
  Dataset d;
  d.name = test ? "fashion-mnist:test" : "fashion-mnist";
  d.classes = 10;
  d.X.set_size(rows * cols, m);
  d.labels.set_size(m);
  const auto* p = reinterpret_cast<const std::uint8_t*>(img.data()) + 16;
  for (std::size_t i = 0; i < m * rows * cols; ++i) d.X[i] = double(p[i]) / 255.0;
  for (std::size_t i = 0; i < m; ++i) {
    d.labels[i] = std::uint8_t(lab[8 + i]);
    if (d.labels[i] >= 10) throw InputError(pre + "-labels-idx1-ubyte.gz: label out of range");
  }
  return d;
}

Shape shape_of(const std::string& name) {
  if (name == "xor4") return {2, 2, 4, 4};
  if (name == "moons" || name == "circles") return {2, 2, 0, 0};
  if (name == "spirals" || name == "blobs") return {2, 3, 0, 0};
  if (name == "fashion-mnist") return {784, 10, 60000, 10000};
  throw InputError("--dataset " + name + ": unknown data set (xor4, moons, circles, spirals, blobs, fashion-mnist)");
}

Dataset by_name(const std::string& spec, std::uint64_t seed, std::size_t m) {
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon), split = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (!split.empty() && split != "test" && split != "train")
    throw InputError("--dataset " + spec + ": the split must be :train or :test");
  const bool test = split == "test";
  const std::uint64_t s = test ? seed + kTestSeedOffset : seed;
  Dataset d;
  if (name == "xor4") d = xor4();
  else if (name == "moons") d = moons(m, 0.1, s);
  else if (name == "circles") d = circles(m, 0.08, 0.5, s);
  else if (name == "spirals") d = spirals(m, 3, 0.2, s);
  else if (name == "blobs") d = blobs(m, 3, 1.0, s);
  else if (name == "fashion-mnist") return fashion_mnist(test);
  else throw InputError("--dataset " + spec + ": unknown data set (xor4, moons, circles, spirals, blobs, fashion-mnist)");
  if (test) d.name += ":test";
  return d;
}

arma::mat encode(const Dataset& d, Loss loss, std::size_t n_out) {
  const std::size_t m = d.labels.n_elem, K = d.classes;
  const bool binary1 = n_out == 1 && K == 2;
  if (!binary1 && n_out != K)
    throw InputError("data set " + d.name + ": has " + std::to_string(K) + " classes, the network has " +
                     std::to_string(n_out) + " outputs (use " + std::to_string(K) +
                     (K == 2 ? ", or 1 with bce, hinge or mse)" : ")"));
  if (binary1 && loss == Loss::ce) throw InputError("data set " + d.name + ": ce needs one output per class (2)");
  const double neg = (loss == Loss::hinge || (loss == Loss::mse && binary1)) ? -1.0 : 0.0;
  arma::mat Y(n_out, m, arma::fill::value(neg));
  for (std::size_t i = 0; i < m; ++i) {
    if (binary1) Y(0, i) = d.labels[i] == 1 ? 1.0 : neg;
    else Y(d.labels[i], i) = 1.0;
  }
  return Y;
}

template <class T> double accuracy(const arma::Mat<T>& A, const arma::Mat<T>& Y, Loss loss) {
  if (A.n_cols == 0) return 0;
  std::size_t ok = 0;
  if (A.n_rows == 1) {
    const T th = loss == Loss::bce ? T(0.5) : T(0);
    for (arma::uword i = 0; i < A.n_cols; ++i) ok += (A(0, i) > th) == (Y(0, i) > th);
  } else {
    for (arma::uword i = 0; i < A.n_cols; ++i) ok += A.col(i).index_max() == Y.col(i).index_max();
  }
  return double(ok) / double(A.n_cols);
}
template double accuracy<float>(const arma::Mat<float>&, const arma::Mat<float>&, Loss);
template double accuracy<double>(const arma::Mat<double>&, const arma::Mat<double>&, Loss);

void Standardizer::fit(const arma::mat& X) {
  mean = arma::mean(X, 1);
  sd = arma::stddev(X, 1, 1);
  sd.elem(arma::find(sd < 1e-12)).ones();  // constant inputs: leave unscaled
}

arma::mat Standardizer::apply(const arma::mat& X) const {
  arma::mat Z = X.each_col() - mean;
  Z.each_col() /= sd;
  return Z;
}

arma::uvec permutation(std::size_t m, std::uint64_t seed) {
  if (m == 0) return {};
  arma::uvec p = arma::regspace<arma::uvec>(0, m - 1);
  std::mt19937_64 rng(seed);
  std::shuffle(p.begin(), p.end(), rng);
  return p;
}

}  // namespace nnlab::data
