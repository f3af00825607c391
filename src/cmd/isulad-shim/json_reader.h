/*
 * A small, strict JSON reader for the shim, which stays libc-only: it finds one string member at the top
 * level of a JSON object (the runtime's `--log-format json` lines: {"level":"error","msg":"...","time":...})
 * and decodes JSON strings (escapes, \uXXXX with surrogate pairs to UTF-8). Whole documents are validated
 * (nesting bounded), so a key inside a nested value or a string is never mistaken for a member.
 * Thread-safe; returned strings are malloc'd and belong to the caller.
 */
#ifndef ISD_SHIM_JSON_READER_H
#define ISD_SHIM_JSON_READER_H

#include <stddef.h>

/* The string member key of the JSON object text[0..len): 1 and *ret when present and a string; 0 when absent
 * or of another type; -1 when text is not one valid JSON object (or on out-of-memory). */
int shim_json_object_string(const char *text, size_t len, const char *key, char **ret);

/* Decodes the JSON string whose opening quote is at p (within p[0..len)): *ret (decoded) and *ret_used
 * (bytes up to and including the closing quote); -1 when malformed. */
int shim_json_string_decode(const char *p, size_t len, char **ret, size_t *ret_used);

#endif
