/*
 * YAML (1.1, libyaml) to jansson, for CDI spec files written in YAML: mappings become objects (keys must be
 * scalars), sequences arrays; a plain scalar is null (``, `~`, `null`), a boolean (`true`/`false`), an integer
 * (decimal, `0x` hex, `0o` or leading-`0` octal as YAML 1.1 reads file modes), a real, or else a string; quoted
 * and block scalars are strings. Aliases and more than one document are refused (no alias expansion bombs), as is
 * nesting deeper than 64. Thread-safe (no shared state).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_cdi.h"

#define YAML_DEPTH_MAX 64

struct yparse {
    yaml_parser_t p;
    struct isd_error **err;
};

static json_t *yaml_fail(struct yparse *y, const yaml_event_t *ev, const char *what)
{
    size_t line = ev != NULL ? ev->start_mark.line : y->p.problem_mark.line;
    isd_error_set(y->err, ISD_ERR_INVALID, 0, "yaml: line %zu: %s", line + 1, what);
    return NULL;
}

static bool int_text(const char *s, json_int_t *ret)
{
    const char *d = s + (s[0] == '-' || s[0] == '+');
    int base = 10;
    char *end;
    long long v;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
        base = 16;
        d += 2;
    } else if (d[0] == '0' && d[1] == 'o') {
        base = 8;
        d += 2;
    } else if (d[0] == '0' && d[1] != '\0') {
        base = 8;
    }
    if (*d == '\0' || strspn(d, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(d))
        return false;
    errno = 0;
    v = strtoll(d, &end, base);
    if (errno != 0 || *end != '\0')
        return false;
    *ret = s[0] == '-' ? -v : v;
    return true;
}

static json_t *plain_scalar(const char *s)
{
    json_int_t i;
    char *end;
    double d;
    if (s[0] == '\0' || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL"))
        return json_null();
    if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
        return json_true();
    if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
        return json_false();
    if (int_text(s, &i))
        return json_integer(i);
    if (strspn(s, "+-0123456789.eE") == strlen(s) && strchr(s, '.') != NULL) {
        d = strtod(s, &end);
        if (*end == '\0')
            return json_real(d);
    }
    return json_string(s);
}

static json_t *scalar(struct yparse *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    json_t *v;
    if (strlen(s) != ev->data.scalar.length)
        return yaml_fail(y, ev, "a scalar holds a NUL byte");
    v = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s) : json_string(s);
    return v != NULL ? v : yaml_fail(y, ev, "a scalar is not valid UTF-8");
}

static json_t *node(struct yparse *y, yaml_event_t *ev, int depth);

/* Reads the nodes of a mapping or sequence up to its end event; ev is the start event (kept by the caller). */
static json_t *collection(struct yparse *y, const yaml_event_t *start, int depth)
{
    bool map = start->type == YAML_MAPPING_START_EVENT;
    cleanup_json json_t *out = map ? json_object() : json_array();
    if (depth > YAML_DEPTH_MAX)
        return yaml_fail(y, start, "nesting deeper than 64");
    for (;;) {
        yaml_event_t ev;
        cleanup_free char *key = NULL;
        json_t *v;
        if (!yaml_parser_parse(&y->p, &ev))
            return yaml_fail(y, NULL, y->p.problem ? y->p.problem : "parse error");
        if (ev.type == (map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            return TAKE_PTR(out);
        }
        if (map) {
            if (ev.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&ev);
                return yaml_fail(y, start, "a mapping key is not a scalar");
            }
            key = xstrdup((const char *)ev.data.scalar.value);
            yaml_event_delete(&ev);
            if (!yaml_parser_parse(&y->p, &ev))
                return yaml_fail(y, NULL, y->p.problem ? y->p.problem : "parse error");
        }
        v = node(y, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (v == NULL)
            return NULL;
        if (map ? json_object_set_new(out, key, v) : json_array_append_new(out, v))
            return yaml_fail(y, start, "a key is not valid UTF-8");
    }
}

static json_t *node(struct yparse *y, yaml_event_t *ev, int depth)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return scalar(y, ev);
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        return collection(y, ev, depth);
    case YAML_ALIAS_EVENT:
        return yaml_fail(y, ev, "aliases are not supported");
    default:
        return yaml_fail(y, ev, "unexpected YAML event");
    }
}

/* Skips the events before the document's root node; 1: root in *ev, 0: no document, -1: error. */
static int next_root(struct yparse *y, yaml_event_t *ev)
{
    for (;;) {
        if (!yaml_parser_parse(&y->p, ev)) {
            yaml_fail(y, NULL, y->p.problem ? y->p.problem : "parse error");
            return -1;
        }
        if (ev->type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(ev);
            return 0;
        }
        if (ev->type != YAML_STREAM_START_EVENT && ev->type != YAML_DOCUMENT_START_EVENT &&
            ev->type != YAML_DOCUMENT_END_EVENT)
            return 1;
        yaml_event_delete(ev);
    }
}

json_t *spec_cdi_yaml_parse(const char *buf, size_t len, struct isd_error **err)
{
    struct yparse y = {.err = err};
    yaml_event_t ev;
    json_t *root = NULL;
    int rc;
    yaml_parser_initialize(&y.p);
    yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
    rc = next_root(&y, &ev);
    if (rc == 0)
        isd_error_set(err, ISD_ERR_INVALID, 0, "yaml: no document");
    if (rc == 1) {
        root = node(&y, &ev, 0);
        yaml_event_delete(&ev);
    }
    if (root != NULL && (rc = next_root(&y, &ev)) != 0) {
        if (rc == 1) {
            yaml_event_delete(&ev);
            isd_error_set(err, ISD_ERR_INVALID, 0, "yaml: more than one document");
        }
        json_decref(root);
        root = NULL;
    }
    yaml_parser_delete(&y.p);
    return root;
}
