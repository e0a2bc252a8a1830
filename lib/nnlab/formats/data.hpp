// nnlab/formats/data.hpp -- the built-in data sets of the contract and the data plumbing.
//
// A Dataset holds X (n_0 x m, one sample per column, as the library wants) and integer class
// labels; encode() turns labels into targets Y for a loss.  Generated sets take a seed and
// record it; the ":test" split of a generated set is drawn with seed + kTestSeedOffset.
#pragma once
#include "nnlab/core/loss.hpp"

#include <armadillo>
#include <cstdint>
#include <string>

namespace nnlab::data {

struct Dataset {
  std::string name;         // e.g. "moons"
  arma::mat X;              // n_0 x m
  arma::uvec labels;        // m, in 0..classes-1
  std::size_t classes = 2;
  std::uint64_t seed = 0;   // the seed it was generated with (0 for files)
  bool generated = false;   // drawn with `seed` (moons, circles, spirals, blobs)
};

inline constexpr std::uint64_t kTestSeedOffset = 1000003;

// The lectures' four points (1,0), (-1,0) -> class 1, (0,1), (0,-1) -> class 0.
Dataset xor4();
// Two interleaving half circles (scikit-learn's make_moons), Gaussian noise.
Dataset moons(std::size_t m, double noise, std::uint64_t seed);
// Two concentric circles, radii 1 and factor (make_circles).
Dataset circles(std::size_t m, double noise, double factor, std::uint64_t seed);
// K interleaved spiral arms (the CS231n spiral), K classes.
Dataset spirals(std::size_t m, std::size_t K, double noise, std::uint64_t seed);
// K Gaussian blobs in 2-D with centres on a circle of radius 3.
Dataset blobs(std::size_t m, std::size_t K, double sd, std::uint64_t seed);
// Fashion-MNIST from the Debian package dataset-fashion-mnist (IDX files, gzip read
// directly): 60,000 training or 10,000 test images, pixels scaled to [0, 1], 10 classes.
// InputError naming the package when the files are missing.
Dataset fashion_mnist(bool test, const std::string& dir = "/usr/share/datasets/fashion-mnist");

// "moons", "moons:test", "fashion-mnist:test", ...: the built-in set by name (m samples for
// the generated sets, default 1000; 4 for xor4).  InputError for an unknown name.
Dataset by_name(const std::string& spec, std::uint64_t seed, std::size_t m = 1000);

// What a built-in set is, without making it (to check sizes before anything is allocated):
// inputs, classes, and the samples of its training and test splits (0: generated, as many
// as asked).  InputError for an unknown name.
struct Shape {
  std::size_t inputs = 0, classes = 0, train = 0, test = 0;
};
Shape shape_of(const std::string& name);

// Targets for a loss and a number of outputs n_out (one column per sample):
//   ce: one-hot (n_out = classes);  bce: {0,1} (n_out = 1, 2 classes) or one-hot;
//   hinge: +-1 (n_out = 1, 2 classes) or +1 for the class and -1 elsewhere;
//   mse: +-1 (n_out = 1, 2 classes) or one-hot.
arma::mat encode(const Dataset& d, Loss loss, std::size_t n_out);

// Accuracy of outputs A (n_L x m) against targets Y: by largest entry, or for one output
// by threshold (0.5 for bce, 0 for hinge and mse) -- the contract's definition.
template <class T> double accuracy(const arma::Mat<T>& A, const arma::Mat<T>& Y, Loss loss);  // float, double

// Mean and standard deviation of every input row (over the samples), and their use.
struct Standardizer {
  arma::vec mean, sd;
  void fit(const arma::mat& X);
  arma::mat apply(const arma::mat& X) const;
};

// A seeded permutation of 0..m-1 (the same seed gives the same permutation).
arma::uvec permutation(std::size_t m, std::uint64_t seed);

}  // namespace nnlab::data
