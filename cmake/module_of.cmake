# isd_module_of(<include path> <prefixes> <out var>): the module an include path spelled from src/ belongs to, by
# the longest matching prefix of ISD_MODULE_PREFIXES ("path=module" entries); "" when none matches. Shared by the
# configure step (layers.cmake) and the include check (check_includes.cmake, cmake -P).
function(isd_module_of inc prefixes out)
    set(best "")
    set(best_len 0)
    foreach(p ${prefixes})
        string(REPLACE "=" ";" kv "${p}")
        list(GET kv 0 prefix)
        list(GET kv 1 mod)
        string(LENGTH "${prefix}" n)
        string(FIND "${inc}" "${prefix}/" at)
        if(at EQUAL 0 AND n GREATER best_len)
            set(best ${mod})
            set(best_len ${n})
        endif()
    endforeach()
    set(${out} "${best}" PARENT_SCOPE)
endfunction()
