# The project's own build flags, in one interface target that every nnlab target links
# PRIVATE: none of them reaches the installed interface (contract section 6).
# No -ffast-math anywhere: it changes the numerics nnlab studies.
add_library(nnlab_flags INTERFACE)
target_compile_options(nnlab_flags INTERFACE -Wall -Wextra -Wpedantic -Wno-unknown-pragmas
                                             $<$<BOOL:${NNLAB_WERROR}>:-Werror>)
# GCC 12 at -O3 warns inside libstdc++'s std::string and Armadillo's small-matrix buffer on code
# that is correct (known false positives); -O2 builds, CI's included, keep every warning.
target_compile_options(nnlab_flags INTERFACE
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>,$<CONFIG:Release>>:-Wno-restrict
  -Wno-array-bounds -Wno-stringop-overflow -Wno-maybe-uninitialized>)
# sqrt, exp... need not set errno, so loops over them vectorise; no result changes.
target_compile_options(nnlab_flags INTERFACE -fno-math-errno)
if(NNLAB_NATIVE)
  target_compile_options(nnlab_flags INTERFACE -march=native)
endif()
if(NNLAB_SANITIZE)
  # A UBSan report is fatal: otherwise a test with undefined behaviour still passes by exit code.
  target_compile_options(nnlab_flags INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=undefined
                                               -fno-omit-frame-pointer)
  target_link_options(nnlab_flags INTERFACE -fsanitize=address,undefined)
endif()
if(NOT NNLAB_ARMA_CHECKS)
  target_compile_definitions(nnlab_flags INTERFACE ARMA_NO_DEBUG)
endif()
# The project's programs are built as the library is, with OpenMP (Armadillo's own elementwise
# loops then use it too) and MPI.
if(NNLAB_USE_OPENMP)
  target_link_libraries(nnlab_flags INTERFACE OpenMP::OpenMP_CXX)
endif()
if(NNLAB_USE_MPI)
  target_link_libraries(nnlab_flags INTERFACE MPI::MPI_CXX)
endif()
# What the build has, for the project's own programs and tests (consumers ask the library:
# nnlab::built_with_openmp(), nnlab::mpi::built_with_mpi()).
target_compile_definitions(nnlab_flags INTERFACE $<$<BOOL:${NNLAB_USE_OPENMP}>:NNLAB_HAVE_OPENMP=1>
                                                 $<$<BOOL:${NNLAB_USE_MPI}>:NNLAB_HAVE_MPI=1>)

# Armadillo as a target (CMake's FindArmadillo gives variables only); nnlabConfig.cmake makes
# the same target for consumers.
include(${CMAKE_CURRENT_LIST_DIR}/NnlabArmadillo.cmake)

# Precompiled headers: parsing <armadillo> is about 4 s of each file's 10-20 s at -O2.  GCC
# silently ignores a precompiled header built with other flags; -Winvalid-pch makes that a
# warning (an error under NNLAB_WERROR, so CI notices if the shared one stops matching).
function(nnlab_precompile target)
  if(NNLAB_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
    target_compile_options(${target} PRIVATE -Winvalid-pch)
  endif()
endfunction()
function(nnlab_reuse_pch target)
  if(NNLAB_PCH)
    target_precompile_headers(${target} REUSE_FROM nnlab_pch)
    target_compile_options(${target} PRIVATE -Winvalid-pch)
  endif()
endfunction()

# A one-file program of the project (lab, test, experiment): libnnlab, the project's flags,
# the shared precompiled header.
function(nnlab_program target)
  target_link_libraries(${target} PRIVATE nnlab::nnlab nnlab_flags ${ARGN})
  nnlab_reuse_pch(${target})
endfunction()
