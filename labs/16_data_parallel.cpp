// Lab 16 -- Data parallelism and allreduce.  The gradient of a batch is a sum over its samples,
// so R processes can each take a part of the batch and add their partial gradients: one
// allreduce per step.  What that costs (the alpha + beta * bytes model, measured here under
// mpirun on loopback), why the order of the additions must be fixed to get the same bits for
// any R, and the mpi backend that does it (nnlab/runtime/mpi.hpp, lib/src/backend_mpi.cpp).
//   lab16_data_parallel            the sheet (runs itself under `mpirun -np 2` for section 4)
//   lab16_data_parallel --measure  the measurement, to be run under mpirun
// Writes results/16_data_parallel/{allreduce.csv,step.csv} and data_parallel.png.
#include "nnlab/backends/openmp.hpp"
#include "nnlab/backends/backend.hpp"
#include "nnlab/formats/io.hpp"
#include "common/sheet.hpp"
#include "nnlab/runtime/mpi.hpp"
#include "common/plot.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

#if defined(NNLAB_HAVE_MPI)
#include <mpi.h>
#endif

using namespace nnlab;

namespace {

// m samples of N(0,1) inputs (n_in x m) with one-hot targets cycling over the n_out classes.
void toy_data(std::size_t n_in, std::size_t n_out, std::size_t m, std::uint64_t seed, arma::mat& X, arma::mat& Y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  X.set_size(n_in, m);
  for (auto& v : X) v = N(rng);
  Y.zeros(n_out, m);
  for (arma::uword t = 0; t < m; ++t) Y(t % n_out, t) = 1;
}

// Under mpirun: MPI_Allreduce of n doubles for n = 1 .. 2^20, and the mpi backend's step on the
// Fashion-MNIST network (784-256-128-10, batch 128) split into compute and communication.
int measure() {
#if defined(NNLAB_HAVE_MPI)
  const int R = mpi::size(), me = mpi::rank();
  std::string csv = "bytes,seconds\n";
  for (std::size_t n = 1; n <= (1u << 20); n *= 4) {
    std::vector<double> x(n, 1.0);
    MPI_Allreduce(MPI_IN_PLACE, x.data(), int(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);  // warm-up
    const int reps = n < 4096 ? 2000 : n < 65536 ? 200 : 20;
    double best = 1e30;
    for (int k = 0; k < 3; ++k) {
      mpi::barrier();
      const double t0 = mpi::wtime();
      for (int i = 0; i < reps; ++i) MPI_Allreduce(MPI_IN_PLACE, x.data(), int(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      best = std::min(best, (mpi::wtime() - t0) / reps);
    }
    csv += std::to_string(8 * n) + "," + lab::fmt(best, 6) + "\n";
  }
  auto net = random_network<double>({784, 256, 128, 10}, {Activation::relu, Activation::relu, Activation::softmax},
                                    Loss::ce, 3);
  arma::mat X, Y;
  toy_data(784, 10, 128, 4, X, Y);
  auto be = make_backend<double>(BackendKind::mpi, 1);
  Cache<double> c;
  Grads<double> g;
  be->value_and_grad(net, X, Y, c, g);  // warm-up
  mpi::timing() = {};
  for (int i = 0; i < 20; ++i) be->value_and_grad(net, X, Y, c, g);
  const auto t = mpi::timing();
  std::string step = "ranks,compute_s,comm_s,params\n" + std::to_string(R) + "," + lab::fmt(t.compute / 20, 6) + "," +
                     lab::fmt(t.comm / 20, 6) + "," + std::to_string(net.n_params()) + "\n";
  if (me == 0) {
    const std::string dir = plot::results_dir("16_data_parallel");
    write_file(dir + "/allreduce.csv", csv);
    write_file(dir + "/step.csv", step);
  }
  return 0;
#else
  return 2;
#endif
}

#if defined(NNLAB_HAVE_MPI)
// The measurement CSVs above (a header line, then numbers; the library's read_csv takes none).
arma::mat read_csv_simple(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::vector<double> r;
    for (std::string f; std::getline(ss, f, ',');) r.push_back(std::stod(f));
    rows.push_back(r);
  }
  arma::mat M(rows.size(), rows.empty() ? 0 : rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) M(i, j) = rows[i][j];
  return M;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--measure") {
    mpi::init(&argc, &argv);
    return measure();
  }
  lab::Sheet s("16_data_parallel", "Data parallelism: sharded batches, allreduce, a fixed summation tree");

  s.section("1. The gradient of a batch is a sum over its samples");
  s.say("J = (1/m) sum_i loss_i, so dJ/dW = (1/m) sum_i dloss_i/dW: cut the batch into parts, let R\n"
        "processes compute the partial sums, add them (an allreduce: every process gets the total),\n"
        "and every process takes the same optimizer step.  The forward pass needs no communication\n"
        "at all (each column on its own); the backward pass needs one allreduce of the P parameters'\n"
        "gradients per step.  Cost model of one allreduce of b bytes: T = alpha + beta b (alpha: the\n"
        "latency of a message, beta: seconds per byte; a ring allreduce moves 2 (R-1)/R b bytes per process).");

  s.section("2. The order of additions, and why it is fixed");
  const auto net = random_network<double>({20, 32, 32, 5}, {Activation::tanh, Activation::relu, Activation::softmax},
                                          Loss::ce, 16);
  arma::mat X, Y;
  toy_data(20, 5, 192, 16, X, Y);
  // 6 shards of 32 samples (the mpi backend's shard size): their gradient sums (the loss
  // gradient scaled by 1/m of the whole batch) from the openmp equations -- what mpi adds
  auto omp = make_openmp_backend<double>(1);
  std::vector<arma::vec> leaves;
  {
    Cache<double> c;
    std::vector<Grads<double>> parts;
    omp->forward(net, X, c);
    omp->sharded_backward(net, X, Y, nullptr, c, 32, 1.0 / 192, parts, nullptr);
    for (const auto& g : parts) leaves.push_back(g.flatten());
  }
  // "MPI_Allreduce order": each of R processes adds its shards left to right, then the partial
  // sums are added left to right.
  auto naive_order = [&](int R) {
    arma::vec total(leaves[0].n_elem, arma::fill::zeros);
    for (int r = 0; r < R; ++r) {
      const auto [lo, hi] = mpi::my_range(6, r, R);
      arma::vec part(leaves[0].n_elem, arma::fill::zeros);
      for (std::size_t k = lo; k < hi; ++k) part += leaves[k];
      total += part;
    }
    return total;
  };
  auto tree_order = [&](int R) {
    std::map<mpi::Node, arma::vec> given;
    for (int r = 0; r < R; ++r) {
      const auto [lo, hi] = mpi::my_range(6, r, R);
      const std::vector<arma::vec> mine(leaves.begin() + long(lo), leaves.begin() + long(hi));
      for (const auto& n : mpi::cover(6, lo, hi)) given[n] = mpi::node_sum<double>(n, lo, mine);
    }
    return mpi::root_from<double>(6, given);
  };
  std::printf("  %3s %28s %28s\n", "R", "partial sums: entries != R=1", "fixed tree: entries != R=1");
  const arma::vec n1 = naive_order(1), t1 = tree_order(1);
  std::size_t naive_diff_total = 0, tree_diff_total = 0;
  for (int R : {1, 2, 3, 4, 6}) {
    const std::size_t nd = arma::accu(naive_order(R) != n1), td = arma::accu(tree_order(R) != t1);
    naive_diff_total += nd;
    tree_diff_total += td;
    std::printf("  %3d %28zu %28zu\n", R, nd, td);
  }
  s.show("parameters", double(n1.n_elem));
  s.check("adding per-process partial sums gives different bits for different R", naive_diff_total > 0);
  s.check("the fixed tree over fixed shards gives the same bits for every R", tree_diff_total == 0);
  s.check_close("and both are the same sum to rounding (relative difference)", arma::norm(n1 - t1) / arma::norm(t1), 0, 0,
                1e-14);

  s.section("3. The mpi backend in one process: the same equations, checked");
  {
    auto mpib = make_backend<double>(BackendKind::mpi, 1), ref = make_backend<double>(BackendKind::naive, 1);
    Cache<double> c1, c2;
    Grads<double> g1, g2;
    const double J1 = mpib->value_and_grad(net, X, Y, c1, g1), J2 = ref->value_and_grad(net, X, Y, c2, g2);
    const arma::vec a = g1.flatten(), b = g2.flatten();
    s.show("relative difference of the gradient from the naive backend's", arma::norm(a - b) / arma::norm(b));
    s.check_close("cost equal to the naive backend's", J1, J2, 1e-14);
    s.check("gradient equal to the naive backend's to 1e-13", arma::norm(a - b) <= 1e-13 * arma::norm(b));
    s.check("the mpi backend's gradient is the fixed tree's sum, bit for bit", arma::approx_equal(a, t1, "absdiff", 0.0));
  }

  s.section("4. Measured under mpirun -np 2 (loopback): allreduce cost and a training step");
#if defined(NNLAB_HAVE_MPI)
  const std::string dir = plot::results_dir(s.id());
  std::remove((dir + "/allreduce.csv").c_str());
  const char* mpiexec = std::getenv("NNLAB_MPIEXEC") ? std::getenv("NNLAB_MPIEXEC") : "mpirun";
  std::string cmd = std::string("OMPI_MCA_btl_vader_single_copy_mechanism=none ") + mpiexec +
                    " --oversubscribe" + (::getuid() == 0 ? " --allow-run-as-root" : "") + " -np 2 " + argv[0] +
                    " --measure > " + dir + "/measure.log 2>&1";
  s.show("command", cmd);
  const int rc = std::system(cmd.c_str());
  std::ifstream probe(dir + "/allreduce.csv");
  if (rc != 0 || !probe) {
    s.say("(mpirun did not run here -- see " + dir + "/measure.log; section 4 skipped)");
  } else {
    const arma::mat A = read_csv_simple(dir + "/allreduce.csv"), St = read_csv_simple(dir + "/step.csv");
    // least squares fit of T = alpha + beta * bytes in relative terms (each row divided by the
    // measured T, so the small messages count as much as the large ones)
    const arma::vec w = 1 / A.col(1);
    const arma::mat D = arma::join_rows(w, A.col(0) % w);
    const arma::vec ab = arma::solve(D, arma::ones(A.n_rows));
    std::printf("  %10s %14s %14s\n", "bytes", "seconds", "alpha+beta*b");
    for (arma::uword i = 0; i < A.n_rows; ++i)
      std::printf("  %10.0f %14.4e %14.4e\n", A(i, 0), A(i, 1), ab[0] + ab[1] * A(i, 0));
    s.show("alpha (latency of one allreduce, s, fitted)", ab[0]);
    s.show("beta (s per byte, fitted)", ab[1]);
    s.show("bandwidth 1/beta (GB/s)", 1e-9 / ab[1]);
    s.show("mpi backend, 784-256-128-10, batch 128, 2 processes: compute per step (s)", St(0, 1));
    s.show("communication per step (s)", St(0, 2));
    s.show("parameters P (8 P bytes of gradient per step)", St(0, 3));
    s.say("On one machine the 'network' is shared memory, so beta is a memory copy and the step is\n"
          "dominated by compute; on a cluster beta is ~1e-10 s/B (10 GB/s) and alpha ~1e-6 s: with\n"
          "P = 235k parameters (1.9 MB) a ring allreduce, 2 (R-1)/R b beta + 2 (R-1) alpha, costs ~0.4 ms --\n"
          "against a compute per step that shrinks like 1/R.  experiments/mpi_scaling.sh measures the\n"
          "strong scaling of training and of the double-descent sweep on this machine.");
    s.check("the measurement ran on 2 processes: 11 message sizes, 8 B to 8 MiB, every time positive",
            A.n_rows == 11 && A(0, 0) == 8 && A(10, 0) == 8 * 1048576.0 && St(0, 0) == 2 && arma::all(A.col(1) > 0));
    s.wrote(dir + "/allreduce.csv");
    s.wrote(plot::render(s.id(), "data_parallel"));
  }
#else
  s.say("(built without MPI: NNLAB_USE_MPI=OFF; section 4 skipped)");
#endif
  return s.finish();
}
