// MPI wrappers and the fixed summation tree (see nnlab/runtime/mpi.hpp).
#include "nnlab/runtime/mpi.hpp"

#include <chrono>
#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#if defined(NNLAB_HAVE_MPI)
#include <mpi.h>
#endif

namespace nnlab::mpi {

namespace {
bool g_active = false;
#if defined(NNLAB_HAVE_MPI)
template <class T> MPI_Datatype type();
template <> MPI_Datatype type<double>() { return MPI_DOUBLE; }
template <> MPI_Datatype type<float>() { return MPI_FLOAT; }
void finalize_at_exit() {
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
}
#endif
}  // namespace

Timing& timing() {
  static Timing t;
  return t;
}

bool built_with_mpi() {
#if defined(NNLAB_HAVE_MPI)
  return true;
#else
  return false;
#endif
}

int init(int* argc, char*** argv) {
#if defined(NNLAB_HAVE_MPI)
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
  if (launched && !g_active) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    g_active = true;
    std::atexit(finalize_at_exit);
  }
#else
  (void)argc;
  (void)argv;
#endif
  return size();
}

bool active() { return g_active; }

int rank() {
#if defined(NNLAB_HAVE_MPI)
  if (g_active) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
#endif
  return 0;
}

int size() {
#if defined(NNLAB_HAVE_MPI)
  if (g_active) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
#endif
  return 1;
}

int local_size() {
  if (!g_active) return 1;
  const char* s = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return s ? std::max(1, std::atoi(s)) : size();
}

double wtime() {
#if defined(NNLAB_HAVE_MPI)
  if (g_active) return MPI_Wtime();
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void barrier() {
#if defined(NNLAB_HAVE_MPI)
  if (g_active) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void abort_all(int code) {
#if defined(NNLAB_HAVE_MPI)
  if (g_active && size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}

void allreduce_sum(double* x, std::size_t n) {
#if defined(NNLAB_HAVE_MPI)
  if (g_active && size() > 1) MPI_Allreduce(MPI_IN_PLACE, x, int(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)x;
  (void)n;
#endif
}

template <class T> void allgatherv(const T* mine, const std::vector<std::size_t>& counts, T* all) {
  const int R = size();
  if (!g_active || R == 1) {
    std::copy(mine, mine + counts[0], all);
    return;
  }
#if defined(NNLAB_HAVE_MPI)
  const int r = rank();
  std::vector<int> cnt(static_cast<std::size_t>(R)), disp(static_cast<std::size_t>(R));
  for (int i = 0, d = 0; i < R; ++i) {
    cnt[std::size_t(i)] = int(counts[std::size_t(i)]);
    disp[std::size_t(i)] = d;
    d += cnt[std::size_t(i)];
  }
  MPI_Allgatherv(mine, cnt[std::size_t(r)], type<T>(), all, cnt.data(), disp.data(), type<T>(), MPI_COMM_WORLD);
#endif
}

std::pair<std::size_t, std::size_t> my_range(std::size_t S, int r, int R) {
  return {S * std::size_t(r) / std::size_t(R), S * std::size_t(r + 1) / std::size_t(R)};
}

std::size_t mid(Node n) { return n.first + (n.second - n.first + 1) / 2; }

namespace {
void cover_rec(Node n, std::size_t lo, std::size_t hi, std::vector<Node>& out) {
  if (n.second <= lo || n.first >= hi) return;             // disjoint
  if (lo <= n.first && n.second <= hi) { out.push_back(n); return; }  // inside
  cover_rec({n.first, mid(n)}, lo, hi, out);
  cover_rec({mid(n), n.second}, lo, hi, out);
}
}  // namespace

std::vector<Node> cover(std::size_t S, std::size_t lo, std::size_t hi) {
  std::vector<Node> out;
  if (S > 0 && lo < hi) cover_rec({0, S}, lo, hi, out);
  return out;
}

namespace {
// out[0..P) <- the value of node n: a given node's value if given(n) points to one, a leaf's
// own value, else value(left) + value(right) -- computed as out = left; out += right, which
// is the same addition.  scratch[depth] holds the right child's value (no allocation once
// the scratch is sized).
template <class T, class Leaf, class Given>
void eval_into(Node n, T* out, std::size_t P, const Leaf& leaf, const Given& given,
               std::vector<std::vector<T>>& scratch, std::size_t depth) {
  if (const T* g = given(n)) { std::copy(g, g + P, out); return; }
  if (n.second - n.first == 1) {
    const T* l = leaf(n.first);
    if (!l) throw std::logic_error("mpi: the given nodes do not cover the tree");
    std::copy(l, l + P, out);
    return;
  }
  eval_into<T>({n.first, mid(n)}, out, P, leaf, given, scratch, depth + 1);
  if (scratch.size() <= depth) scratch.resize(depth + 1);
  if (scratch[depth].size() < P) scratch[depth].resize(P);
  T* right = scratch[depth].data();
  eval_into<T>({mid(n), n.second}, right, P, leaf, given, scratch, depth + 1);
  for (std::size_t i = 0; i < P; ++i) out[i] += right[i];
}
template <class T> std::vector<std::vector<T>>& scratch_space() {
  static thread_local std::vector<std::vector<T>> s;
  return s;
}
}  // namespace

template <class T> arma::Col<T> node_sum(Node n, std::size_t lo, const std::vector<arma::Col<T>>& leaves) {
  const std::size_t P = leaves.empty() ? 0 : leaves[0].n_elem;
  arma::Col<T> out(P);
  eval_into<T>(
      n, out.memptr(), P, [&](std::size_t i) { return leaves.at(i - lo).memptr(); },
      [](Node) -> const T* { return nullptr; }, scratch_space<T>(), 0);
  return out;
}

template <class T> arma::Col<T> root_from(std::size_t S, const std::map<Node, arma::Col<T>>& given) {
  const std::size_t P = given.empty() ? 0 : given.begin()->second.n_elem;
  arma::Col<T> out(P);
  eval_into<T>(
      {0, S}, out.memptr(), P, [](std::size_t) -> const T* { return nullptr; },
      [&](Node n) -> const T* {
        const auto it = given.find(n);
        return it == given.end() ? nullptr : it->second.memptr();
      },
      scratch_space<T>(), 0);
  return out;
}

template <class T> void tree_allreduce(std::size_t S, const std::vector<const T*>& my_leaves, std::size_t P, T* out) {
  const int R = size(), r = rank();
  const auto [lo, hi] = my_range(S, r, R);
  auto leaf = [&](std::size_t i) -> const T* { return i >= lo && i < hi ? my_leaves[i - lo] : nullptr; };
  auto none = [](Node) -> const T* { return nullptr; };
  if (R == 1) {
    eval_into<T>({0, S}, out, P, leaf, none, scratch_space<T>(), 0);
    return;
  }
  // Every process knows every process's cover, hence the layout of the exchange.
  std::vector<std::vector<Node>> covers(static_cast<std::size_t>(R));
  std::vector<std::size_t> counts(static_cast<std::size_t>(R));
  std::size_t n_all = 0;
  for (int q = 0; q < R; ++q) {
    const auto [a, b] = my_range(S, q, R);
    covers[std::size_t(q)] = cover(S, a, b);
    counts[std::size_t(q)] = covers[std::size_t(q)].size() * P;
    n_all += covers[std::size_t(q)].size();
  }
  static thread_local std::vector<T> mine, all;
  mine.resize(counts[std::size_t(r)]);
  all.resize(n_all * P);
  for (std::size_t i = 0; i < covers[std::size_t(r)].size(); ++i)
    eval_into<T>(covers[std::size_t(r)][i], mine.data() + i * P, P, leaf, none, scratch_space<T>(), 0);
  const double t0 = wtime();
  allgatherv<T>(mine.data(), counts, all.data());
  timing().comm += wtime() - t0;
  std::map<Node, const T*> given;
  std::size_t k = 0;
  for (int q = 0; q < R; ++q)
    for (const Node& n : covers[std::size_t(q)]) given[n] = all.data() + (k++) * P;
  eval_into<T>(
      {0, S}, out, P, [](std::size_t) -> const T* { return nullptr; },
      [&](Node n) -> const T* {
        const auto it = given.find(n);
        return it == given.end() ? nullptr : it->second;
      },
      scratch_space<T>(), 0);
}

template <class T> arma::Col<T> tree_allreduce(std::size_t S, const std::vector<arma::Col<T>>& my_leaves) {
  // P is the same on every process; one without shards (S < R) learns it from the others.
  double P = my_leaves.empty() ? 0.0 : double(my_leaves[0].n_elem);
#if defined(NNLAB_HAVE_MPI)
  if (g_active && size() > 1) MPI_Allreduce(MPI_IN_PLACE, &P, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#endif
  std::vector<const T*> ptr;
  for (const auto& l : my_leaves) ptr.push_back(l.memptr());
  arma::Col<T> out(static_cast<std::size_t>(P));
  tree_allreduce<T>(S, ptr, std::size_t(P), out.memptr());
  return out;
}

#define NNLAB_INST(T)                                                                                    \
  template void allgatherv<T>(const T*, const std::vector<std::size_t>&, T*);                            \
  template arma::Col<T> node_sum<T>(Node, std::size_t, const std::vector<arma::Col<T>>&);               \
  template arma::Col<T> root_from<T>(std::size_t, const std::map<Node, arma::Col<T>>&);                 \
  template arma::Col<T> tree_allreduce<T>(std::size_t, const std::vector<arma::Col<T>>&);             \
  template void tree_allreduce<T>(std::size_t, const std::vector<const T*>&, std::size_t, T*);
NNLAB_INST(float)
NNLAB_INST(double)
#undef NNLAB_INST

}  // namespace nnlab::mpi
