// nnlab/nnlab.hpp -- the whole library in one include (lib/README.md describes the parts).
#pragma once
#include "nnlab/core/activations.hpp"
#include "nnlab/core/dual.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/core/loss.hpp"
#include "nnlab/core/network.hpp"
#include "nnlab/core/shape.hpp"

#include "nnlab/backends/backend.hpp"
#include "nnlab/backends/naive.hpp"
#include "nnlab/backends/openmp.hpp"

#include "nnlab/graph/graph.hpp"

#include "nnlab/methods/double_descent.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/hessian.hpp"
#include "nnlab/methods/logistic.hpp"
#include "nnlab/methods/lsq.hpp"
#include "nnlab/methods/optim.hpp"
#include "nnlab/methods/relu_constructions.hpp"
#include "nnlab/methods/separation.hpp"
#include "nnlab/methods/train.hpp"

#include "nnlab/formats/data.hpp"
#include "nnlab/formats/io.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/runtime/mpi.hpp"
