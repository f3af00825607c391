/*
 * jansson helpers: bounded loads from files and strings with one-line errors, atomic writes,
 * and typed getters that tolerate missing keys. Thread-safe.
 */
#ifndef ISD_COMMON_JSON_H
#define ISD_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

#define cleanup_json __attribute__((cleanup(cleanup_jsonp)))
void cleanup_jsonp(json_t **j);

json_t *json_load_path(const char *path, size_t max, struct isd_error **err);
/* Upper bound of one document (the largest the engine reads is a client's answer, CLIENT_MAX_BODY). */
#define JSON_PARSE_MAX (64u << 20)

/* The one parser of JSON text: at most JSON_PARSE_MAX bytes (ISD_ERR_TOO_LARGE), nesting bounded by
 * jansson, duplicate keys refused; ISD_ERR_INVALID with the parser's message when malformed. */
json_t *json_parse(const char *text, size_t len, struct isd_error **err);
/* The first document of text (a stream of concatenated documents); *ret_used = bytes it took. */
json_t *json_parse_prefix(const char *text, size_t len, size_t *ret_used, struct isd_error **err);
int json_write_path(const char *path, const json_t *j, bool durable, struct isd_error **err);
/* Compact text (caller frees). */
char *json_to_string(const json_t *j);

const char *json_get_str(const json_t *obj, const char *key);
long long json_get_int(const json_t *obj, const char *key, long long dflt);
bool json_get_bool(const json_t *obj, const char *key, bool dflt);
/* NULL-terminated copy of an array of strings; NULL when the key is absent or not an array. */
char **json_get_strv(const json_t *obj, const char *key);
json_t *json_strv(char *const *v);

/* The values of one Docker filter in either encoding, ["v", ...] or {"v": true, ...}; NULL when the filter is
 * absent or empty. Caller frees (strv). */
char **json_filter_values(const json_t *filters, const char *key);
/* Docker's label filter: every "k" of want is a key of labels, every "k=v" a key with that value. */
bool json_labels_match(const json_t *labels, char *const *want);

/* Compact JSON text of j with a newline, for one-document-a-line streams written in one go (Docker's SDK
 * cannot parse a stream where the newline comes alone); NULL on failure. Caller frees. */
char *json_line(const json_t *j);

#endif
