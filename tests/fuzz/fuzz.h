/*
 * Fuzz targets: each fuzz_<name>.c defines LLVMFuzzerTestOneInput for one parser of untrusted input.
 * With clang and -DISD_FUZZ=ON they link against libFuzzer (fuzz_<name>); always, they link against
 * driver.c (fuzz_<name>_regress), which feeds every file of corpus/<name>/ once: a CTest regression run.
 */
#ifndef ISD_TEST_FUZZ_H
#define ISD_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
