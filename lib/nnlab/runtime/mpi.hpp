// nnlab/runtime/mpi.hpp -- the little of MPI nnlab needs, and the fixed summation tree that makes a
// data-parallel sum independent of the number of processes.
//
// Built with MPI (CMake option NNLAB_USE_MPI, Open MPI from Debian): init() starts MPI when the
// program was launched by mpirun (it reads the launcher's environment; a plain run never calls
// MPI_Init, so nothing changes without mpirun).  Built without it, or run without mpirun: one
// process, rank 0 of 1, and every function below is a local no-op.
//
// Why a tree.  MPI_Allreduce adds the processes' partial sums in an order that depends on the
// process count (and on the MPI library's algorithm): floating-point addition is not
// associative, so a gradient summed over 2 ranks differs in its last bits from the same sum
// over 3.  nnlab cuts a batch into S shards of a fixed size (independent of the process
// count), computes one gradient per shard, and adds the shard gradients along one fixed binary
// tree: node [a,b) = node [a,mid) + node [mid,b), mid = a + ceil((b - a) / 2).  A process owning
// shards [lo,hi) computes the largest tree nodes inside its range (cover()); all processes
// exchange these (MPI_Allgatherv) and evaluate the rest of the tree the same way.  Every
// addition of the tree is the same whoever does it, so the sum is the same, bit for bit, for
// any number of processes -- one process included.
#pragma once
#include <armadillo>

#include <cstddef>
#include <map>
#include <utility>
#include <vector>

namespace nnlab::mpi {

bool built_with_mpi();
// MPI_Init_thread (funneled) if launched by mpirun (OMPI_COMM_WORLD_SIZE, PMI_SIZE or
// PMIX_RANK set) and built with MPI; registers MPI_Finalize at exit.  Returns size().
int init(int* argc, char*** argv);
bool active();          // MPI initialised (by init)
int rank();             // 0 without MPI
int size();             // 1 without MPI
int local_size();       // processes on this machine (OMPI_COMM_WORLD_LOCAL_SIZE), 1 without MPI
double wtime();         // seconds (MPI_Wtime, or a steady clock)
void barrier();
// Under mpirun with several processes: MPI_Abort(code), so that one process's error does not
// leave the others waiting in a collective.  Otherwise does nothing.
void abort_all(int code);

// x <- sum over processes of x (MPI_Allreduce, MPI_SUM).  Exact when, element by element, at
// most one process holds a non-zero (x + 0 = x): the double-descent sweep gathers its
// results that way.
void allreduce_sum(double* x, std::size_t n);
// all <- the concatenation of every process's `mine`, in rank order; counts[r] = elements of
// rank r (known to every process).  T = float or double.
template <class T> void allgatherv(const T* mine, const std::vector<std::size_t>& counts, T* all);

// The shards [lo, hi) a process owns when S shards are split over R processes (contiguous,
// sizes differing by at most one).
std::pair<std::size_t, std::size_t> my_range(std::size_t S, int r, int R);

// Seconds spent by the mpi backend in this process since the last reset: computing (forward and
// backward of its shards, the tree additions) and communicating (the MPI calls).
struct Timing { double compute = 0, comm = 0; };
Timing& timing();

// ---- the fixed tree over S leaves ------------------------------------------------------------
using Node = std::pair<std::size_t, std::size_t>;  // [a, b)
std::size_t mid(Node n);                             // a + ceil((b - a) / 2)
// The maximal nodes of the tree over [0, S) that lie inside [lo, hi), left to right.
std::vector<Node> cover(std::size_t S, std::size_t lo, std::size_t hi);
// The value of node n from leaves[i - lo] (i in [lo, hi) covering n), by the tree's additions.
template <class T>
arma::Col<T> node_sum(Node n, std::size_t lo, const std::vector<arma::Col<T>>& leaves);
// The root [0, S) from the given node values (a set covering [0, S)), by the tree's additions.
template <class T> arma::Col<T> root_from(std::size_t S, const std::map<Node, arma::Col<T>>& given);
// The whole data-parallel sum: this process owns leaves [lo, hi) of S (my_range), every process
// calls it; returns the root on every process.  Without MPI (one process): node_sum of the root.
template <class T> arma::Col<T> tree_allreduce(std::size_t S, const std::vector<arma::Col<T>>& my_leaves);
// The same on raw buffers of P values each, into out[0..P): no allocation once warmed up (the
// mpi backend's form).  Every process must pass the same P.
template <class T> void tree_allreduce(std::size_t S, const std::vector<const T*>& my_leaves, std::size_t P, T* out);

}  // namespace nnlab::mpi
