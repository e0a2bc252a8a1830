// nnlab/methods/train.hpp -- initialisation and the training loop.
//
// The loop: split off a validation set (seeded), then per epoch shuffle (seed and epoch
// number: the same seed gives the same run), step the optimizer over minibatches, evaluate
// on the validation set, keep the model with the best validation accuracy (the model is
// chosen on validation data, never on test data), stop early after `patience` epochs without
// improvement.  Progress on stderr; optional CSV log and checkpoint (atomic, every epoch:
// an interrupted run loses at most one epoch, and --resume continues it bit for bit).  A run
// whose loss or weights stop being finite stops there (Result::diverged).
#pragma once
#include "nnlab/backends/backend.hpp"

#include <string_view>

#include <string>
#include <vector>

namespace nnlab::train {

enum class Init {
  zeros,   // every weight 0: all hidden units stay identical (the symmetry problem)
  small,   // W ~ randn * 0.01, b = 0 (the lectures)
  xavier,  // W ~ U(-a, a), a = sqrt(6 / (n_in + n_out)), b = 0 (Glorot; PyTorch's xavier_uniform_)
  he,      // W ~ N(0, 2 / n_in), b = 0 (PyTorch's kaiming_normal_)
};
Init init_from_name(const std::string& s);  // InputError for an unknown name
template <class T = double>
Network<T> init_network(const std::vector<std::size_t>& sizes, const std::vector<Activation>& acts, Loss loss,
                        Init init, std::uint64_t seed, double l1 = 0, double l2 = 0);

enum class Schedule {
  constant,  // lambda(t) = lr
  inverse,   // lambda(t) = lr / (1 + decay t), t = epoch (a 1/t-type schedule)
  step,      // lambda(t) = lr gamma^floor(t / step_size)
};

struct Options {
  std::string optimizer = "adam";  // sgd | momentum | adam | gd-linesearch
  double lr = 0;                   // 0: the optimizer's default (sgd 0.1, momentum 0.01, adam 1e-3, line search 1)
  std::size_t batch = 32;          // 1: single-sample SGD; >= samples: full batch
  int epochs = 10;
  Schedule schedule = Schedule::constant;
  double decay = 0.1;              // inverse schedule
  int step_size = 10;              // step schedule
  double gamma = 0.5;              // step schedule
  std::uint64_t seed = 0;
  double val_fraction = 0.1;       // share of the training data held out for model choice
  int patience = 0;                // early stopping (0: off)
  BackendKind backend = BackendKind::matrix;
  int threads = 1;
  bool progress = false;           // a line per epoch on stderr
  std::string log_csv;             // learning curves (epoch, losses, accuracies, seconds)
  std::string checkpoint;          // written atomically after every epoch
  bool resume = false;             // continue from `checkpoint`
  bool ftz = true;                 // flush subnormals to zero while training (lib/README.md, "Threads")
};

struct Epoch {
  int epoch = 0;
  double lr = 0, train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0, seconds = 0;
};

struct Result {
  Network<double> model;   // best validation accuracy (the last epoch when there is no validation set)
  int best_epoch = 0;
  std::size_t n_val = 0;   // validation samples held out (0: no validation set; val_* are then 0)
  std::vector<Epoch> history;
  double seconds = 0;
  bool stopped_early = false;
  // The last epoch's loss or weights were not finite: the run stopped there, and neither the
  // checkpoint nor the log was written for it (the checkpoint of the epoch before is kept).
  bool diverged = false;
};

// What decides a run's bits (besides the code and the BLAS kernels), recorded in its
// checkpoint: --resume refuses a checkpoint made with another configuration and names the
// option that differs.
struct RunConfig {
  std::vector<std::size_t> sizes;
  std::vector<std::string> activations;
  std::string loss, optimizer, schedule, precision, backend;
  double l1 = 0, l2 = 0, lr = 0, decay = 0, gamma = 0, val = 0;
  std::size_t batch = 0, samples = 0;
  int step_size = 0, threads = 0;
  std::uint64_t seed = 0;
  std::string data_hash;  // FNV-1a of the training data (X, Y) as given to run()
};
template <class T>
RunConfig run_config(const Network<T>& net, const arma::mat& X, const arma::mat& Y, const Options& opt, double lr0);
// The first option in which b differs from a, as the command line names it ("--seed 3"), or "".
std::string config_difference(const RunConfig& a, const RunConfig& b);

// A checkpoint file: the run's configuration, where it stands (the current and best models,
// the optimizer's state, the history of every epoch so far).
struct Checkpoint {
  RunConfig config;
  int epoch = 0;
  Network<double> model, best;
  int best_epoch = 0;
  double best_val = -1;
  std::vector<Epoch> history;
  long opt_t = 0;
  std::vector<std::vector<double>> opt_state;
};
// Strict, like the model file: every key, type and range, the models, the history's length
// (one row per epoch) and the optimizer state's sizes; InputError naming `source` and the key.
Checkpoint parse_checkpoint(std::string_view text, const std::string& source);
Checkpoint read_checkpoint(const std::string& path);
std::string checkpoint_to_json(const Checkpoint& c);
// The learning rate a run uses: opt.lr, or the optimizer's default when it is 0.
double learning_rate(const Options& opt);
// The checkpoint --resume continues from, checked against this run: its configuration (the
// option that differs is named) and an epoch within --epochs; InputError otherwise.  run()
// calls it; the command line calls it first, before it prints the run's summary.
template <class T>
Checkpoint resume_point(const Network<T>& net, const arma::mat& X, const arma::mat& Y, const Options& opt);

// The validation samples held out of m: floor(val_fraction m), at most m - 1.
std::size_t validation_size(std::size_t m, double val_fraction);
// What run() refuses before it starts, with one InputError: epochs < 0, batch 0, a validation
// share outside [0, 1), early stopping without a validation set, --resume without a checkpoint
// file.  run() calls it; the command line calls it first, before it prints the run's summary.
void check_options(const Options& opt, std::size_t m);

// X: n_0 x m, Y: n_L x m (one sample per column).  T: the precision of training.
template <class T = double>
Result run(Network<T> net, const arma::mat& X, const arma::mat& Y, const Options& opt);

// J (regularisation included) and accuracy of a model on data.
struct Evaluation { double loss = 0, accuracy = 0; std::size_t n = 0; };
Evaluation evaluate(const Network<double>& net, const arma::mat& X, const arma::mat& Y);

}  // namespace nnlab::train
