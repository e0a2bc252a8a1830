# nnlab::armadillo: Armadillo's headers and library as an imported target (used by the build
# and by the installed nnlabConfig.cmake).
if(NOT TARGET nnlab::armadillo)
  if(NOT ARMADILLO_FOUND)
    find_package(Armadillo REQUIRED)
  endif()
  add_library(nnlab::armadillo INTERFACE IMPORTED)
  set_target_properties(nnlab::armadillo PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${ARMADILLO_INCLUDE_DIRS}"
                                                     INTERFACE_LINK_LIBRARIES "${ARMADILLO_LIBRARIES}")
endif()
