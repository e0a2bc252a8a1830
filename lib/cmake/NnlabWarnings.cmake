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
  target_compile_options(nnlab_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(nnlab_flags INTERFACE -fsanitize=address,undefined)
endif()
if(NOT NNLAB_ARMA_CHECKS)
  target_compile_definitions(nnlab_flags INTERFACE ARMA_NO_DEBUG)
endif()
