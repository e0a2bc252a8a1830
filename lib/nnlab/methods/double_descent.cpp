// Random ReLU features, minimum-norm / ridge least squares, the sweep (see double_descent.hpp).
#include "nnlab/methods/double_descent.hpp"

#include "nnlab/methods/qr_impl.hpp"

#include "nnlab/runtime/mpi.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/formats/data.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"

#include <cmath>
#include <exception>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>
#ifdef NNLAB_HAVE_OPENMP
#include <omp.h>
#endif

namespace nnlab::dd {

double mse(const arma::mat& P, const arma::mat& Y) {
  return arma::accu(arma::square(P - Y)) / double(P.n_cols);
}

double class_error(const arma::mat& P, const arma::mat& Y) {
  std::size_t bad = 0;
  for (arma::uword i = 0; i < P.n_cols; ++i) {
    if (P.n_rows == 1) bad += (P(0, i) >= 0) != (Y(0, i) >= 0);
    else bad += P.col(i).index_max() != Y.col(i).index_max();
  }
  return double(bad) / double(P.n_cols);
}

void add_label_noise(arma::mat& Y, double noise, std::uint64_t seed) {
  if (noise <= 0) return;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> U(0, 1);
  const arma::uword k = Y.n_rows, n = Y.n_cols;
  const bool onehot = k > 1 && arma::all(arma::abs(arma::sum(Y, 0) - 1) < 1e-12) && arma::all(arma::vectorise(Y) >= 0);
  std::uniform_int_distribution<arma::uword> cls(0, k - 1), smp(0, n - 1);
  const arma::mat Y0 = Y;
  for (arma::uword i = 0; i < n; ++i) {
    if (U(rng) >= noise) continue;
    if (onehot) { Y.col(i).zeros(); Y(cls(rng), i) = 1; }
    else Y.col(i) = Y0.col(smp(rng));
  }
}

namespace {
struct Features { arma::mat V; arma::vec c; };
Features draw(std::size_t p, std::size_t d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  Features f{arma::mat(p, d), arma::vec(p)};
  const double sv = 1 / std::sqrt(double(d));
  for (auto& v : f.V) v = sv * N(rng);
  for (auto& v : f.c) v = N(rng);
  return f;
}
arma::mat phi(const Features& f, const arma::mat& X) {
  arma::mat P = f.V * X;  // p x n
  P.each_col() += f.c;
  return arma::clamp(P, 0, arma::datum::inf);
}
// A fitted model: the SVD of Phi' (n x p) and the output weights for a ridge.
// The output layer has a bias: it is fitted by centring, Phi_c = Phi - mu 1', Y_c = Y - ybar 1'
// (the bias is not penalised by the ridge), and then b = ybar - W mu.
//
// The SVD of A = Phi_c' (n x p) is taken the way LAPACK's least-squares drivers do it, without
// ever forming the long factor: QR of the tall one of A and A' (dgeqrf, Householder reflectors
// kept implicit), then the SVD of the small r x r triangle R = U_R S V_R' (dgesdd), r = min(n, p).
//   n >= p:  A  = Q R  ->  U = Q U_R,  Vs = V_R;   W' = V_R g (U_R' (Q' Y_c'))
//   n <  p:  A' = Q R  ->  U = V_R,    Vs = Q U_R; W' = Q (U_R g (V_R' Y_c'))
// with g_i = 1/s_i (s_i > tol; 0 otherwise) or s_i/(s_i^2 + lambda).  Q is applied with dormqr to an
// n x k or p x k block only, so a fit costs 2 r^2 max(n,p) + O(r^3), not twice that.
struct Fit {
  Features f;
  arma::vec mu;      // mean training feature (p)
  bool wide = false; // n < p: the QR is of A'
  detail::Qr Q;      // Householder QR of the tall one of Phi_c' and Phi_c
  arma::mat UR, VR;  // R = UR diag(s) VR'
  arma::vec s;
  double tol = 0;
  struct Out { arma::mat W; arma::vec b; };
  Out weights(const arma::mat& Ytr, double lambda) const {  // W: k x p, b: k
    arma::vec g(s.n_elem, arma::fill::zeros);
    if (lambda > 0) {
      for (arma::uword i = 0; i < s.n_elem; ++i) g[i] = s[i] / (s[i] * s[i] + lambda);
    } else {
      g = min_norm_filter(s, tol);
    }
    const arma::vec ybar = arma::mean(Ytr, 1);
    const arma::mat Yct = (Ytr.each_col() - ybar).t();  // n x k
    const arma::uword r = s.n_elem;
    arma::mat Wt;                                        // p x k
    if (!wide) {  // W' = V_R g (U_R' (Q' Y_c'))
      arma::mat C = Yct;
      detail::apply_q(Q, C, 'T');
      Wt = VR * arma::diagmat(g) * (UR.t() * C.head_rows(r));
    } else {      // W' = Q (U_R g (V_R' Y_c'))
      Wt.zeros(Q.QR.n_rows, Yct.n_cols);
      Wt.head_rows(r) = UR * arma::diagmat(g) * (VR.t() * Yct);
      detail::apply_q(Q, Wt, 'N');
    }
    Out o;
    o.W = Wt.t();
    o.b = ybar - o.W * mu;
    return o;
  }
  arma::mat predict(const Out& o, const arma::mat& X) const {
    arma::mat P = o.W * phi(f, X);
    P.each_col() += o.b;
    return P;
  }
  double condition() const {
    const arma::vec nz = s.elem(arma::find(s > tol));
    return nz.n_elem ? nz.max() / nz.min() : arma::datum::inf;
  }
};
Fit fit(const arma::mat& Xtr, std::size_t p, std::uint64_t seed) {
  Fit F;
  F.f = draw(p, Xtr.n_rows, seed);
  const arma::mat Ph = phi(F.f, Xtr);  // p x n
  F.mu = arma::mean(Ph, 1);
  const std::size_t n = Xtr.n_cols;
  F.wide = n < p;
  F.Q = detail::qr(F.wide ? arma::mat(Ph.each_col() - F.mu) : arma::mat((Ph.each_col() - F.mu).t()), false);
  const arma::mat R = arma::trimatu(F.Q.QR.head_rows(F.Q.QR.n_cols));
  if (!arma::svd(F.UR, F.s, F.VR, R, "dc")) throw std::runtime_error("double_descent: the SVD did not converge");
  F.tol = double(std::max<std::size_t>(n, p)) * std::numeric_limits<double>::epsilon() * (F.s.n_elem ? F.s.max() : 0);
  return F;
}
}  // namespace

arma::vec min_norm_filter(const arma::vec& s, double tol) {
  arma::vec g(s.n_elem, arma::fill::zeros);
  // TASK min-norm-lstsq
  for (arma::uword i = 0; i < s.n_elem; ++i) g[i] = s[i] > tol ? 1 / s[i] : 0.0;
  // STUB
  // (void)tol;
  // END TASK min-norm-lstsq
  return g;
}

Model fit_model(const arma::mat& Xtr, const arma::mat& Ytr, std::size_t p, double ridge, std::uint64_t seed) {
  const Fit F = fit(Xtr, p, seed);
  const auto o = F.weights(Ytr, ridge);
  return {F.f.V, F.f.c, o.W, o.b, F.mu, F.s, F.condition()};
}

arma::mat features(const Model& m, const arma::mat& X) { return phi({m.V, m.c}, X); }

arma::mat predict(const Model& m, const arma::mat& X) {
  arma::mat P = m.W * features(m, X);
  P.each_col() += m.b;
  return P;
}

arma::mat ensemble_average(const std::vector<arma::mat>& predictions) {
  if (predictions.empty()) throw std::logic_error("dd::ensemble_average: no models");
  arma::mat avg(arma::size(predictions[0]), arma::fill::zeros);
  // TASK ensemble-average
  avg = predictions[0];
  for (std::size_t k = 1; k < predictions.size(); ++k) avg += predictions[k];
  avg /= double(predictions.size());
  // STUB
  // END TASK ensemble-average
  return avg;
}

namespace {
std::uint64_t mix(std::uint64_t a, std::uint64_t b, std::uint64_t c) {  // a seed per (seed, point, member)
  std::uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL;
  h ^= (c + 1) * 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}
}  // namespace

// Centred with the training mean and divided by one scalar, the training RMS, so that V x is
// about N(0, 1) and almost no feature is dead on every sample (a dead feature lowers the rank
// of Phi and moves the interpolation threshold above p = n).  One scalar, not a per-input sd:
// an input that hardly varies in training must not be blown up on test data.
void normalize_inputs(Split& D) {
  const arma::vec mu = arma::mean(D.Xtr, 1);
  const arma::mat C = D.Xtr.each_col() - mu;
  double rms = std::sqrt(arma::accu(arma::square(C)) / double(C.n_elem));
  if (!(rms > 1e-12)) rms = 1;
  for (arma::mat* X : {&D.Xtr, &D.Xte, &D.Xva}) {
    if (X->n_elem == 0) continue;
    X->each_col() -= mu;
    *X /= rms;
  }
}

std::vector<Point> sweep(const Split& raw, const Options& o) {
  if (o.features.empty()) throw InputError("double-descent: --features is empty");
  Split D = raw;
  normalize_inputs(D);
  if (o.trials < 1) throw InputError("double-descent: --trials must be >= 1");
  const std::size_t P = o.features.size(), T = std::size_t(o.trials);
  struct Cell { double tr, te, err, wn, cond, ete = 0, eerr = 0, lam = 0; };
  std::vector<Cell> cells(P * T);
  const int old = set_blas_threads(1);  // OpenMP owns the cores: one BLAS thread per point
  park_blas_threads();
  std::size_t done = 0;
  // Under MPI, process r takes the points q with q % R == r; each point's numbers depend only on
  // (seed, trial, p), so who computes it does not matter.
  const std::size_t R = std::size_t(mpi::size()), me = std::size_t(mpi::rank());
  // Largest p first, so that the slow points do not all start last.
  // An exception may not leave an OpenMP region: the first one is kept and thrown after it.
  std::exception_ptr failed;
  std::size_t failed_p = 0;
  bool stopped = false;
#pragma omp parallel for schedule(dynamic, 1) num_threads(o.threads)
  for (std::size_t q = 0; q < P * T; ++q) {
    if (q % R != me) continue;
    bool stop;
#pragma omp atomic read
    stop = stopped;
    if (stop) continue;
    const std::size_t j = P - 1 - q / T, t = q % T, p = o.features[j];
    try {
      const Fit F = fit(D.Xtr, p, mix(o.seed, t, 0));
      double lam = o.ridge;
      if (!o.ridge_grid.empty()) {  // the ridge with the smallest validation MSE
        double best = arma::datum::inf;
        for (double l : o.ridge_grid) {
          const double v = mse(F.predict(F.weights(D.Ytr, l), D.Xva), D.Yva);
          if (v < best) { best = v; lam = l; }
        }
      }
      const auto Wb = F.weights(D.Ytr, lam);
      const arma::mat Pte = F.predict(Wb, D.Xte);
      Cell c{mse(F.predict(Wb, D.Xtr), D.Ytr), mse(Pte, D.Yte), class_error(Pte, D.Yte), arma::norm(Wb.W, "fro"),
             F.condition(), 0, 0, lam};
      if (o.ensemble > 0) {  // the average of K independent models (member 0 is the one above)
        std::vector<arma::mat> members{Pte};
        for (int k = 1; k < o.ensemble; ++k) {
          const Fit G = fit(D.Xtr, p, mix(o.seed, t, std::uint64_t(k)));
          members.push_back(G.predict(G.weights(D.Ytr, lam), D.Xte));
        }
        const arma::mat avg = ensemble_average(members);
        c.ete = mse(avg, D.Yte);
        c.eerr = class_error(avg, D.Yte);
      }
      cells[j * T + t] = c;
    } catch (...) {
#pragma omp critical(nnlab_dd_failed)
      if (!failed) {
        failed = std::current_exception();
        failed_p = p;
      }
#pragma omp atomic write
      stopped = true;
      continue;
    }
#pragma omp critical
    {
      ++done;
      if (o.progress)
        std::fprintf(stderr, "\rdouble-descent: %zu/%zu fits (p = %zu)   ", done, (P * T + R - 1 - me) / R, p);
    }
  }
  if (o.progress) std::fprintf(stderr, "\n");
  set_blas_threads(old);
  if (failed) {
    try {
      std::rethrow_exception(failed);
    } catch (const std::bad_alloc&) {
      throw InputError("double-descent: out of memory fitting p = " + std::to_string(failed_p) + " features on " +
                       std::to_string(D.Xtr.n_cols) + " samples, " + std::to_string(o.threads) +
                       " fits at a time: fewer --threads or smaller --features");
    }
  }
  if (R > 1) {  // every cell was filled by one process and is 0 elsewhere: the sum is exact
    std::vector<double> flat;
    flat.reserve(cells.size() * 8);
    for (const Cell& c : cells) flat.insert(flat.end(), {c.tr, c.te, c.err, c.wn, c.cond, c.ete, c.eerr, c.lam});
    mpi::allreduce_sum(flat.data(), flat.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const double* f = &flat[8 * i];
      cells[i] = Cell{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    }
  }
  std::vector<Point> out(P);
  for (std::size_t j = 0; j < P; ++j) {
    Point& pt = out[j];
    pt.features = o.features[j];
    arma::vec te(T), er(T);
    for (std::size_t t = 0; t < T; ++t) {  // fixed order: the same sums for any thread count
      const Cell& c = cells[j * T + t];
      pt.train_mse += c.tr / double(T);
      pt.test_mse += c.te / double(T);
      pt.test_error += c.err / double(T);
      pt.weight_norm += c.wn / double(T);
      pt.condition += c.cond / double(T);
      pt.ens_test_mse += c.ete / double(T);
      pt.ens_test_error += c.eerr / double(T);
      pt.ridge += c.lam / double(T);
      te[t] = c.te;
      er[t] = c.err;
    }
    pt.test_mse_sd = T > 1 ? arma::stddev(te) : 0;
    pt.test_error_sd = T > 1 ? arma::stddev(er) : 0;
  }
  return out;
}

// A split from a built-in data set: n training samples drawn (seeded) from its training
// split, m test samples from its test split; targets one-hot (one output per class).
Split dataset_split(const std::string& name, std::size_t n, std::size_t m, std::size_t nv, std::uint64_t seed) {
  if (name.find(':') != std::string::npos) throw InputError("--dataset " + name + ": give the name only (train and test are both used)");
  const data::Shape sh = data::shape_of(name);  // sizes refused before anything is made
  if (sh.train && n + nv > sh.train)
    throw InputError("--n-train " + std::to_string(n) + (nv ? " + --n-val " + std::to_string(nv) : "") + ": " + name +
                     " has " + std::to_string(sh.train) + " training samples");
  if (sh.test && m > sh.test) throw InputError("--n-test " + std::to_string(m) + ": " + name + " has " + std::to_string(sh.test) + " test samples");
  const auto tr = data::by_name(name, seed, std::max<std::size_t>(n + nv, 1000));
  const auto te = data::by_name(name + ":test", seed, std::max<std::size_t>(m, 1000));
  if (n + nv > tr.X.n_cols) throw InputError("--n-train " + std::to_string(n) + ": " + name + " has " + std::to_string(tr.X.n_cols) + " training samples");
  if (m > te.X.n_cols) throw InputError("--n-test " + std::to_string(m) + ": " + name + " has " + std::to_string(te.X.n_cols) + " test samples");
  const arma::uvec pa = data::permutation(tr.X.n_cols, seed * 3 + 1);
  const arma::uvec a = pa.head(n), b = data::permutation(te.X.n_cols, seed * 3 + 2).head(m);
  Split s;
  s.Xtr = tr.X.cols(a);
  s.Ytr = data::encode(tr, Loss::ce, tr.classes).cols(a);
  s.Xte = te.X.cols(b);
  s.Yte = data::encode(te, Loss::ce, te.classes).cols(b);
  if (nv > 0) {
    const arma::uvec v = pa.subvec(n, n + nv - 1);
    s.Xva = tr.X.cols(v);
    s.Yva = data::encode(tr, Loss::ce, tr.classes).cols(v);
  }
  return s;
}

std::string to_csv(const std::vector<Point>& pts, bool ens) {
  std::string s = "features,train_mse,test_mse,test_error,weight_norm,condition";
  if (ens) s += ",ensemble_test_mse,ensemble_test_error";
  s += "\n";
  for (const auto& p : pts) {
    s += std::to_string(p.features) + "," + fmt17(p.train_mse) + "," + fmt17(p.test_mse) + "," + fmt17(p.test_error) +
         "," + fmt17(p.weight_norm) + "," + fmt17(p.condition);
    if (ens) s.append(",").append(fmt17(p.ens_test_mse)).append(",").append(fmt17(p.ens_test_error));
    s += "\n";
  }
  return s;
}

}  // namespace nnlab::dd
