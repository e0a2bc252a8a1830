// An example of hidden checks: a teacher keeps files like this outside the kit and runs
//   scripts/grade.sh --checks <this folder>
// in a student's kit.  Each NNLAB_CHECK adds to the checks of an existing task.
#include "check.hpp"

#include "nnlab/core/activations.hpp"

NNLAB_CHECK("act-sigmoid", "hidden: sigma'(z) in single precision, within 2 ulp of sigma(1 - sigma)") {
  for (float z : {-8.0f, -1.0f, 0.0f, 0.5f, 3.0f}) {
    const float a = nnlab::act::Sigmoid::f(z);
    const float got = nnlab::act::Sigmoid::df(z, a), want = a * (1.0f - a);
    ex::expect_close("sigma'(z) in float", got, want, 2.5e-7, 0, ex::at("z", z));
  }
}
