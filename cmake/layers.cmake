# The modules of src/ and what each may use (docs/design/README.md draws them). One static library per module,
# isd_<module>, linking only the modules it may use; and a check that runs in every build over each module's
# #include lines, because the final link of isulad takes every library and linking alone would not notice a
# module including a header of a higher one.
#
# isd_module(<name> [CHECK_ONLY] DIRS <dir>... [USES <module>...] [LINKS <target>...])
#   DIRS: directories under src/ whose *.c make the library (not recursive); USES: the modules it may include
#   and link; LINKS: external libraries; CHECK_ONLY: programs (cmd/), checked but built by add_executable. A module without sources yet (network, api_cri) still gets its rule,
#   so the check knows it.

set(ISD_LAYER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/check_includes.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/module_of.cmake)

# Include path prefix (from src/) -> module; the longest prefix wins (see check_includes.cmake).
set(ISD_MODULE_PREFIXES
    "common/base=base" "common=common" "client=client" "cmd/isula=cmd_isula" "cmd/isulad-shim=cmd_shim" "cmd/isulad-pause=cmd_pause"
    "cmd/isulad=cmd_isulad" "daemon/config=config" "daemon/storage=storage" "daemon/runtime=runtime"
    "daemon/cgroup=cgroup" "daemon/events=events" "daemon/volume=volume" "daemon/network=network" "daemon/image=image"
    "daemon/spec=spec" "daemon/container=container" "daemon/service=service" "daemon/api/rest=api_rest"
    "daemon/api/cri=api_cri" "daemon/api/cri_loader=api_cri_loader" "daemon/api/listener=api_listener")

function(isd_module name)
    cmake_parse_arguments(M "CHECK_ONLY" "" "DIRS;USES;LINKS" ${ARGN})
    set(srcs "")
    set(files "")
    foreach(d ${M_DIRS})
        file(GLOB c CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${d}/*.c)
        file(GLOB h CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${d}/*.h)
        list(APPEND srcs ${c})
        list(APPEND files ${c} ${h})
    endforeach()
    set_property(GLOBAL PROPERTY ISD_USES_${name} "${M_USES}")
    if(files STREQUAL "")
        return()
    endif()
    set(stamp ${CMAKE_BINARY_DIR}/layers/${name}.ok)
    add_custom_command(
        OUTPUT ${stamp}
        COMMAND ${CMAKE_COMMAND} -DMODULE=${name} "-DUSES=${M_USES}" "-DPREFIXES=${ISD_MODULE_PREFIXES}"
                -DSRC=${CMAKE_SOURCE_DIR}/src "-DFILES=${files}" -DSTAMP=${stamp} -P ${ISD_LAYER_SCRIPT}
        DEPENDS ${files} ${ISD_LAYER_SCRIPT} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/module_of.cmake ${CMAKE_CURRENT_FUNCTION_LIST_FILE}
        COMMENT "layers: includes of module ${name}"
        VERBATIM)
    add_custom_target(isd_layers_${name} DEPENDS ${stamp})
    if(srcs STREQUAL "" OR M_CHECK_ONLY)
        return()
    endif()
    add_library(isd_${name} STATIC ${srcs})
    add_dependencies(isd_${name} isd_layers_${name})
    foreach(u ${M_USES})
        if(TARGET isd_${u})
            target_link_libraries(isd_${name} PUBLIC isd_${u})
        endif()
    endforeach()
    if(M_LINKS)
        target_link_libraries(isd_${name} PUBLIC ${M_LINKS})
    endif()
endfunction()

# Links a test program against the modules its own #include lines name (and what those use).
function(isd_link_by_includes target source)
    file(STRINGS ${source} lines REGEX "^#include \"")
    set(mods "")
    foreach(l ${lines})
        string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" inc "${l}")
        isd_module_of("${inc}" "${ISD_MODULE_PREFIXES}" best)
        if(best AND TARGET isd_${best})
            list(APPEND mods isd_${best})
        elseif(best)
            # a program's sources (cmd/): what that program may use
            get_property(uses GLOBAL PROPERTY ISD_USES_${best})
            foreach(u ${uses})
                if(TARGET isd_${u})
                    list(APPEND mods isd_${u})
                endif()
            endforeach()
        endif()
    endforeach()
    list(REMOVE_DUPLICATES mods)
    target_link_libraries(${target} ${mods})
endfunction()
