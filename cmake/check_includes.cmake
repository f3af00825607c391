# cmake -P check: every `#include "x/y.h"` of a module's files (FILES) must name a header of the module itself
# or of a module in USES (PREFIXES maps include paths to modules, longest prefix first). A violation fails the
# build with the file, the line and the rule; see docs/design/README.md.
include(${CMAKE_CURRENT_LIST_DIR}/module_of.cmake)

set(bad "")
foreach(f ${FILES})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(l ${lines})
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" inc "${l}")
        isd_module_of("${inc}" "${PREFIXES}" best)
        if(best STREQUAL "")
            # not spelled from src/ (harness.h, a header next to the file): allowed only when it is not a
            # path into src/ written another way
            if(EXISTS ${SRC}/${inc})
                list(APPEND bad "${f}: `${inc}` is a header of src/ spelled in an unknown way")
            endif()
            continue()
        endif()
        if(best STREQUAL MODULE)
            continue()
        endif()
        list(FIND USES ${best} allowed)
        if(allowed LESS 0)
            string(REPLACE "${SRC}/" "src/" rel "${f}")
            list(APPEND bad "${rel}: module `${MODULE}` includes `${inc}` of module `${best}`")
        endif()
    endforeach()
endforeach()
if(bad)
    string(REPLACE ";" "\n  " text "${bad}")
    string(REPLACE ";" " " uses "${USES}")
    message(FATAL_ERROR "layer violation (docs/design/README.md):\n  ${text}\n"
                        "module `${MODULE}` may include only itself and: ${uses}")
endif()
file(WRITE ${STAMP} "ok\n")
