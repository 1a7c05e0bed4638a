# Project code builds with warnings as errors; third-party code does not.
function(hiro_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

# hiro_layer(NAME SOURCES... DEPS ...): one static library per layer, hiro::NAME.
function(hiro_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(hiro_${name} STATIC ${ARG_SOURCES})
  add_library(hiro::${name} ALIAS hiro_${name})
  target_include_directories(hiro_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(hiro_${name} PUBLIC ${ARG_DEPS})
  hiro_warnings(hiro_${name})
endfunction()
