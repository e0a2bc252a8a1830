# Compile flags shared by every nnlab target (an interface target, linked privately).
# No -ffast-math anywhere: it changes the numerics nnlab studies.
add_library(nnlab_flags INTERFACE)
target_compile_options(nnlab_flags INTERFACE -Wall -Wextra -Wpedantic -Wno-unknown-pragmas
                                             $<$<BOOL:${NNLAB_WERROR}>:-Werror>)
# -fno-math-errno: sqrt, exp... need not set errno, so loops over them vectorise.  It changes
# no result (unlike -ffast-math, which nnlab never uses).
target_compile_options(nnlab_flags INTERFACE -fno-math-errno)
if(NNLAB_NATIVE)
  target_compile_options(nnlab_flags INTERFACE -march=native)
endif()
if(NNLAB_SANITIZE)
  # -fno-sanitize-recover: UBSan's default is to print a report and carry on, so a test
  # with undefined behaviour would still pass by exit code; this makes the report fatal.
  target_compile_options(nnlab_flags INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=undefined
                                               -fno-omit-frame-pointer)
  target_link_options(nnlab_flags INTERFACE -fsanitize=address,undefined)
endif()
if(NOT NNLAB_ARMA_CHECKS)
  target_compile_definitions(nnlab_flags INTERFACE ARMA_NO_DEBUG)
endif()

# Precompiled headers (NNLAB_PCH).  Parsing <armadillo> takes about 4 s of each file's
# 10-20 s at -O2 (CLI11 more), and nearly every file includes it.  GCC silently ignores a
# precompiled header built with other flags; -Winvalid-pch makes that a warning (an error
# under NNLAB_WERROR, so CI notices if the shared one stops matching).
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
