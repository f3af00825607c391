#include "common/json_check.h"

#include <stdio.h>
#include <string.h>

const struct json_type json_t_any = {JSON_K_ANY, "interface {}", NULL, NULL};
const struct json_type json_t_string = {JSON_K_STRING, "string", NULL, NULL};
const struct json_type json_t_int = {JSON_K_INT, "int64", NULL, NULL};
const struct json_type json_t_uint = {JSON_K_UINT, "uint64", NULL, NULL};
const struct json_type json_t_number = {JSON_K_NUMBER, "float64", NULL, NULL};
const struct json_type json_t_bool = {JSON_K_BOOL, "bool", NULL, NULL};
const struct json_type json_t_strv = {JSON_K_ARRAY, "[]string", &json_t_string, NULL};
const struct json_type json_t_str_or_strv = {JSON_K_STR_OR_STRV, "strslice", NULL, NULL};
const struct json_type json_t_strmap = {JSON_K_MAP, "map[string]string", &json_t_string, NULL};
static const struct json_member no_members[] = {{NULL, NULL}};
const struct json_type json_t_empty_object = {JSON_K_OBJECT, "struct {}", NULL, no_members};
const struct json_type json_t_emptymap = {JSON_K_MAP, "map[string]struct {}", &json_t_empty_object, NULL};

/* Go's words for what was found. */
static const char *found_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "number";
    }
}

/* The dotted path of the field being checked, kept on the caller's stack. */
struct path {
    char text[512];
};

static int mismatch(const json_t *j, const struct json_type *t, const struct path *p, struct isd_error **err)
{
    if (p->text[0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "json: cannot unmarshal %s into a value of type %s",
                             found_kind(j), t->name);
    return isd_error_set(err, ISD_ERR_INVALID, 0, "json: cannot unmarshal %s into field %s of type %s", found_kind(j),
                         p->text, t->name);
}

static bool scalar_ok(const json_t *j, enum json_kind kind)
{
    switch (kind) {
    case JSON_K_STRING:
        return json_is_string(j);
    case JSON_K_INT:
        return json_is_integer(j);
    case JSON_K_UINT:
        return json_is_integer(j) && json_integer_value(j) >= 0;
    case JSON_K_NUMBER:
        return json_is_number(j);
    case JSON_K_BOOL:
        return json_is_boolean(j);
    default:
        return true;
    }
}

static int check(const json_t *j, const struct json_type *t, struct path *p, struct isd_error **err);

/* Appends ".name" (or "[i]" when name is NULL) to the path, checks, and restores it. */
static int check_child(const json_t *j, const struct json_type *t, struct path *p, const char *name, size_t index,
                       struct isd_error **err)
{
    size_t len = strlen(p->text);
    int rc;
    if (name != NULL)
        snprintf(p->text + len, sizeof(p->text) - len, "%s%s", len > 0 ? "." : "", name);
    else
        snprintf(p->text + len, sizeof(p->text) - len, "[%zu]", index);
    rc = check(j, t, p, err);
    p->text[len] = '\0';
    return rc;
}

static int check_container(const json_t *j, const struct json_type *t, struct path *p, struct isd_error **err)
{
    const char *k;
    json_t *v;
    size_t i;
    if (t->kind == JSON_K_ARRAY) {
        json_array_foreach(j, i, v)
        {
            if (check_child(v, t->elem, p, NULL, i, err) < 0)
                return -1;
        }
        return 0;
    }
    if (t->kind == JSON_K_MAP) {
        json_object_foreach((json_t *)j, k, v)
        {
            if (check_child(v, t->elem, p, k, 0, err) < 0)
                return -1;
        }
        return 0;
    }
    for (const struct json_member *m = t->members; m->name != NULL; m++) {
        v = json_object_get(j, m->name);
        if (v != NULL && check_child(v, m->type, p, m->name, 0, err) < 0)
            return -1;
    }
    return 0;
}

static int check(const json_t *j, const struct json_type *t, struct path *p, struct isd_error **err)
{
    if (json_is_null(j) || t->kind == JSON_K_ANY)
        return 0;
    switch (t->kind) {
    case JSON_K_STR_OR_STRV:
        if (json_is_string(j))
            return 0;
        if (!json_is_array(j))
            return mismatch(j, t, p, err);
        return check_container(j, &json_t_strv, p, err);
    case JSON_K_ARRAY:
        return json_is_array(j) ? check_container(j, t, p, err) : mismatch(j, t, p, err);
    case JSON_K_MAP:
    case JSON_K_OBJECT:
        return json_is_object(j) ? check_container(j, t, p, err) : mismatch(j, t, p, err);
    default:
        return scalar_ok(j, t->kind) ? 0 : mismatch(j, t, p, err);
    }
}

int json_check(const json_t *j, const struct json_type *t, const char *where, struct isd_error **err)
{
    struct path p;
    snprintf(p.text, sizeof(p.text), "%s", where != NULL ? where : "");
    return check(j, t, &p, err);
}
