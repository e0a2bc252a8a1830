# Armadillo must call OpenBLAS, not the reference BLAS (15x slower).  Debian's Armadillo
# links libblas.so.3/liblapack.so.3, which the alternatives system resolves; so we build and
# run a probe against Armadillo and ask the loader which file really provides dgemm_.
try_run(NNLAB_PROBE_RUN NNLAB_PROBE_COMPILE
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/blas_probe.cpp ${CMAKE_CURRENT_LIST_DIR}/../nnlab/runtime/blas.cpp
        CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${ARMADILLO_INCLUDE_DIRS};${CMAKE_CURRENT_LIST_DIR}/.."
        LINK_LIBRARIES ${ARMADILLO_LIBRARIES} ${CMAKE_DL_LIBS}
        CXX_STANDARD 20
        RUN_OUTPUT_VARIABLE NNLAB_PROBE_OUT
        COMPILE_OUTPUT_VARIABLE NNLAB_PROBE_LOG)
if(NOT NNLAB_PROBE_COMPILE OR NOT NNLAB_PROBE_RUN EQUAL 0)
  message(FATAL_ERROR "nnlab: could not build/run the BLAS probe against Armadillo:\n${NNLAB_PROBE_LOG}")
endif()
string(REGEX MATCH "BLAS=([^;]*)" _m "${NNLAB_PROBE_OUT}")
set(NNLAB_BLAS_LIBRARY "${CMAKE_MATCH_1}")
string(REGEX MATCH "LAPACK=([^;]*)" _m "${NNLAB_PROBE_OUT}")
set(NNLAB_LAPACK_LIBRARY "${CMAKE_MATCH_1}")
string(REGEX MATCH "CORE=([^;]*)" _m "${NNLAB_PROBE_OUT}")
set(NNLAB_OPENBLAS_CORE "${CMAKE_MATCH_1}")
string(REGEX MATCH "SUGGEST=([^;]*)" _m "${NNLAB_PROBE_OUT}")
set(NNLAB_OPENBLAS_SUGGEST "${CMAKE_MATCH_1}")
string(REGEX MATCH "OPENBLAS=(.*)$" _m "${NNLAB_PROBE_OUT}")
set(NNLAB_OPENBLAS_CONFIG "${CMAKE_MATCH_1}")
message(STATUS "nnlab: Armadillo ${ARMADILLO_VERSION_STRING} calls BLAS   ${NNLAB_BLAS_LIBRARY}")
message(STATUS "nnlab: Armadillo ${ARMADILLO_VERSION_STRING} calls LAPACK ${NNLAB_LAPACK_LIBRARY}")
if(NNLAB_OPENBLAS_CONFIG STREQUAL "NO")
  set(_msg "nnlab: Armadillo does NOT call OpenBLAS (dgemm_ comes from ${NNLAB_BLAS_LIBRARY}). "
           "Install libopenblas-dev (scripts/install-deps.sh) or check "
           "'update-alternatives --display libblas.so.3-x86_64-linux-gnu'.")
  if(NNLAB_REQUIRE_OPENBLAS)
    message(FATAL_ERROR ${_msg})
  else()
    message(WARNING ${_msg})
  endif()
else()
  message(STATUS "nnlab: OpenBLAS confirmed: ${NNLAB_OPENBLAS_CONFIG}")
endif()
# OpenBLAS 0.3.21 falls back to its generic Prescott kernels on CPUs missing from its table
# (5x slower dgemm).  nnlab's programs then re-execute themselves with OPENBLAS_CORETYPE set
# (nnlab/runtime/blas.hpp); the scripts export it for NumPy and PyTorch too (scripts/blas-env.sh reads
# this file: the core type, or empty).
file(WRITE "${CMAKE_BINARY_DIR}/openblas_coretype" "${NNLAB_OPENBLAS_SUGGEST}")
if(NNLAB_OPENBLAS_SUGGEST)
  message(WARNING "nnlab: OpenBLAS chose its generic ${NNLAB_OPENBLAS_CORE} kernels on this CPU (missing from "
                  "its table): dgemm about 5x slower.  OPENBLAS_CORETYPE=${NNLAB_OPENBLAS_SUGGEST} cures it; nnlab's "
                  "programs set it themselves, scripts/blas-env.sh exports it for the scripts.")
else()
  message(STATUS "nnlab: OpenBLAS kernels: ${NNLAB_OPENBLAS_CORE}")
endif()
