/*
 * Go text/template subset over jansson values; see template.h. Parse once into a node tree, then
 * execute; no global state.
 */
#include "client/template.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

enum tok_kind { T_FIELD, T_STRING, T_INT, T_IDENT, T_PIPE, T_VAR, T_DECL };
struct tok {
    enum tok_kind kind;
    char *s;
    long long n;
};

struct cmd {
    char *fn;         /* NULL: a plain operand (args[0]) */
    struct tok *args; /* T_FIELD / T_STRING / T_INT */
    size_t nargs;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE };
struct node;
struct node_list {
    struct node *v;
    size_t n;
};
struct node {
    enum node_kind kind;
    char *text;
    struct cmd *pipe;
    size_t npipe;
    struct node_list body, els;
    char *vars[2]; /* range $k, $v := ... (vars[0] NULL when one variable or none) */
};

/* The variables in scope: $ (the data) and those of the enclosing ranges. */
struct scope {
    const char *name[2];
    const json_t *val[2];
    const struct scope *up;
    const json_t *root;
};

struct template
{
    struct node_list root;
};

struct parser {
    const char *p;
    bool trim_next;
    struct isd_error **err;
};

static void free_list(struct node_list *l);

static void free_pipe(struct cmd *pipe, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(pipe[i].fn);
        for (size_t j = 0; j < pipe[i].nargs; j++)
            free(pipe[i].args[j].s);
        free(pipe[i].args);
    }
    free(pipe);
}

static void free_list(struct node_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].text);
        free(l->v[i].vars[0]);
        free(l->v[i].vars[1]);
        free_pipe(l->v[i].pipe, l->v[i].npipe);
        free_list(&l->v[i].body);
        free_list(&l->v[i].els);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void template_free(struct template *t)
{
    if (t == NULL)
        return;
    free_list(&t->root);
    free(t);
}

static struct node *list_push(struct node_list *l, enum node_kind kind)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    memset(&l->v[l->n], 0, sizeof(*l->v));
    l->v[l->n].kind = kind;
    return &l->v[l->n++];
}

/* Reads a quoted string starting at *p (on the quote); returns it unescaped or NULL. */
static char *lex_string(const char **pp)
{
    const char *p = *pp;
    char q = *p++;
    struct buf b = {0};
    while (*p != '\0' && *p != q) {
        if (q == '"' && *p == '\\' && p[1] != '\0') {
            p++;
            char c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            buf_append(&b, &c, 1);
            p++;
            continue;
        }
        buf_append(&b, p++, 1);
    }
    if (*p != q) {
        buf_free(&b);
        return NULL;
    }
    *pp = p + 1;
    return buf_steal(&b);
}

static int lex_action(const char *s, size_t len, struct tok **ret, size_t *ret_n, struct isd_error **err)
{
    cleanup_free char *text = xstrndup(s, len);
    const char *p = text;
    struct tok *v = NULL;
    size_t n = 0;
    while (*p != '\0') {
        struct tok t = {0};
        const char *start = p;
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        if (p[0] == ':' && p[1] == '=') {
            t.kind = T_DECL;
            p += 2;
        } else if (*p == '|') {
            t.kind = T_PIPE;
            p++;
        } else if (*p == '"' || *p == '`') {
            t.kind = T_STRING;
            t.s = lex_string(&p);
            if (t.s == NULL)
                goto bad;
        } else {
            while (*p != '\0' && !isspace((unsigned char)*p) && *p != '|' && *p != ',')
                p++;
            t.s = xstrndup(start, (size_t)(p - start));
            t.kind = t.s[0] == '.'                                       ? T_FIELD
                     : t.s[0] == '$'                                     ? T_VAR
                     : (isdigit((unsigned char)t.s[0]) || t.s[0] == '-') ? T_INT
                                                                         : T_IDENT;
            if (t.kind == T_INT && parse_int64(t.s, &t.n) < 0)
                goto bad_free;
        }
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = t;
        continue;
    bad_free:
        free(t.s);
    bad:
        for (size_t i = 0; i < n; i++)
            free(v[i].s);
        free(v);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "template: bad syntax in `%s`", text);
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* Builds a pipeline from tokens [from, n); takes ownership of their strings. */
static int build_pipe(struct node *nd, struct tok *toks, size_t from, size_t n, struct isd_error **err)
{
    struct cmd *c = NULL;
    for (size_t i = from; i < n; i++) {
        if (toks[i].kind == T_PIPE || c == NULL) {
            nd->pipe = xrealloc(nd->pipe, (nd->npipe + 1) * sizeof(*nd->pipe));
            c = &nd->pipe[nd->npipe++];
            memset(c, 0, sizeof(*c));
            if (toks[i].kind == T_PIPE)
                continue;
        }
        if (toks[i].kind == T_IDENT && c->fn == NULL && c->nargs == 0) {
            c->fn = TAKE_PTR(toks[i].s);
            continue;
        }
        c->args = xrealloc(c->args, (c->nargs + 1) * sizeof(*c->args));
        c->args[c->nargs++] = toks[i];
        toks[i].s = NULL;
    }
    if (nd->npipe == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "template: missing value for command");
    for (size_t i = 0; i < nd->npipe; i++)
        if ((nd->pipe[i].fn == NULL && nd->pipe[i].nargs != 1) || (i > 0 && nd->pipe[i].fn == NULL))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "template: malformed pipeline");
    return 0;
}

static int parse_list(struct parser *ps, struct node_list *out, const char **ret_term);

static void add_text(struct parser *ps, struct node_list *out, const char *s, size_t len, bool trim_right)
{
    if (ps->trim_next)
        while (len > 0 && isspace((unsigned char)*s))
            s++, len--;
    ps->trim_next = false;
    if (trim_right)
        while (len > 0 && isspace((unsigned char)s[len - 1]))
            len--;
    if (len > 0)
        list_push(out, N_TEXT)->text = xstrndup(s, len);
}

static const char *find_close(const char *p)
{
    while (*p != '\0') {
        if (*p == '"' || *p == '`') {
            char q = *p++;
            while (*p != '\0' && *p != q)
                p += (*p == '\\' && q == '"' && p[1] != '\0') ? 2 : 1;
            if (*p != '\0')
                p++;
            continue;
        }
        if (p[0] == '}' && p[1] == '}')
            return p;
        p++;
    }
    return NULL;
}

static void free_toks(struct tok *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].s);
    free(t);
}

/* `range $v := X` / `range $k, $v := X`: takes the names into nd; returns where the pipeline starts. */
static size_t range_decl(struct node *nd, struct tok *toks, size_t n)
{
    if (n > 3 && toks[1].kind == T_VAR && toks[2].kind == T_DECL) {
        nd->vars[1] = TAKE_PTR(toks[1].s);
        return 3;
    }
    if (n > 4 && toks[1].kind == T_VAR && toks[2].kind == T_VAR && toks[3].kind == T_DECL) {
        nd->vars[0] = TAKE_PTR(toks[1].s);
        nd->vars[1] = TAKE_PTR(toks[2].s);
        return 4;
    }
    return 1;
}

/* Parses one action at ps->p (just after "{{"); may recurse for if/range. */
static int parse_action(struct parser *ps, struct node_list *out, const char **ret_term)
{
    const char *start = ps->p, *close = find_close(start), *end;
    struct tok *toks = NULL;
    size_t n = 0;
    int rc = 0;
    if (close == NULL)
        return isd_error_set(ps->err, ISD_ERR_INVALID, 0, "template: unclosed action");
    end = close;
    if (start[0] == '-' && isspace((unsigned char)start[1]))
        start++;
    if (end - start >= 2 && end[-1] == '-' && isspace((unsigned char)end[-2])) {
        end--;
        ps->trim_next = true;
    }
    ps->p = close + 2;
    if (lex_action(start, (size_t)(end - start), &toks, &n, ps->err) < 0)
        return -1;
    if (n == 0) {
        free(toks);
        return isd_error_set(ps->err, ISD_ERR_INVALID, 0, "template: missing value for command");
    }
    if (toks[0].kind == T_IDENT && (streq(toks[0].s, "end") || streq(toks[0].s, "else"))) {
        *ret_term = streq(toks[0].s, "end") ? "end" : "else";
    } else if (toks[0].kind == T_IDENT && (streq(toks[0].s, "if") || streq(toks[0].s, "range"))) {
        struct node *nd = list_push(out, streq(toks[0].s, "if") ? N_IF : N_RANGE);
        const char *term = NULL;
        size_t from = nd->kind == N_RANGE ? range_decl(nd, toks, n) : 1;
        rc = build_pipe(nd, toks, from, n, ps->err);
        if (rc == 0)
            rc = parse_list(ps, &nd->body, &term);
        if (rc == 0 && streq(term, "else"))
            rc = parse_list(ps, &nd->els, &term);
        if (rc == 0 && !streq(term, "end"))
            rc = isd_error_set(ps->err, ISD_ERR_INVALID, 0, "template: unexpected EOF, missing {{end}}");
    } else {
        rc = build_pipe(list_push(out, N_ACTION), toks, 0, n, ps->err);
    }
    free_toks(toks, n);
    return rc;
}

/* Parses nodes until EOF or an {{end}}/{{else}} (returned in *ret_term, NULL at EOF). */
static int parse_list(struct parser *ps, struct node_list *out, const char **ret_term)
{
    *ret_term = NULL;
    while (*ps->p != '\0') {
        const char *open = strstr(ps->p, "{{");
        const char *term = NULL;
        if (open == NULL) {
            add_text(ps, out, ps->p, strlen(ps->p), false);
            ps->p += strlen(ps->p);
            break;
        }
        add_text(ps, out, ps->p, (size_t)(open - ps->p), open[2] == '-' && isspace((unsigned char)open[3]));
        ps->p = open + 2;
        if (parse_action(ps, out, &term) < 0)
            return -1;
        if (term != NULL) {
            *ret_term = term;
            return 0;
        }
    }
    return 0;
}

struct template *template_parse(const char *text, struct isd_error **err)
{
    struct template *t = xcalloc(1, sizeof(*t));
    struct parser ps = {.p = text, .err = err};
    const char *term = NULL;
    if (parse_list(&ps, &t->root, &term) < 0 ||
        (term != NULL && isd_error_set(err, ISD_ERR_INVALID, 0, "template: unexpected {{%s}}", term) < 0)) {
        template_free(t);
        return NULL;
    }
    return t;
}

/* ---- execution ---- */

static json_t *lookup_key(const json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return NULL;
    v = json_object_get(obj, key);
    if (v != NULL)
        return v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (strcasecmp(k, key) == 0)
            return v;
    }
    return NULL;
}

static json_t *eval_field(const json_t *dot, const char *path)
{
    const json_t *cur = dot;
    cleanup_free char *copy = xstrdup(path + 1);
    char *save = NULL;
    for (char *seg = strtok_r(copy, ".", &save); seg != NULL && cur != NULL; seg = strtok_r(NULL, ".", &save))
        cur = lookup_key(cur, seg);
    return cur != NULL ? json_incref((json_t *)cur) : json_null();
}

static bool truthy(const json_t *v)
{
    if (v == NULL)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    default:
        return false;
    }
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void template_print_value(struct buf *out, const json_t *v)
{
    size_t i, n;
    if (v == NULL) { /* a function applied to nothing, e.g. `{{lower {}}}`: print as a missing field */
        buf_printf(out, "<no value>");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        buf_append(out, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    case JSON_REAL:
        buf_printf(out, "%g", json_real_value(v));
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        buf_printf(out, "%s", json_is_true(v) ? "true" : "false");
        return;
    case JSON_ARRAY:
        buf_printf(out, "[");
        for (i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                buf_printf(out, " ");
            template_print_value(out, json_array_get(v, i));
        }
        buf_printf(out, "]");
        return;
    case JSON_OBJECT: {
        const char *k, **keys = xcalloc(json_object_size(v) + 1, sizeof(char *));
        json_t *x;
        n = 0;
        json_object_foreach((json_t *)v, k, x) keys[n++] = k;
        qsort(keys, n, sizeof(char *), cmp_keys);
        buf_printf(out, "map[");
        for (i = 0; i < n; i++) {
            buf_printf(out, "%s%s:", i > 0 ? " " : "", keys[i]);
            template_print_value(out, json_object_get(v, keys[i]));
        }
        buf_printf(out, "]");
        free(keys);
        return;
    }
    default:
        buf_printf(out, "<no value>");
    }
}

static json_t *fn_index(json_t **a, size_t n, struct isd_error **err)
{
    json_t *cur = a[0];
    for (size_t i = 1; i < n && cur != NULL; i++) {
        if (json_is_object(cur) && json_is_string(a[i]))
            cur = json_object_get(cur, json_string_value(a[i]));
        else if (json_is_array(cur) && json_is_integer(a[i]))
            cur = json_array_get(cur, (size_t)json_integer_value(a[i]));
        else if (json_is_null(cur))
            cur = NULL;
        else {
            isd_error_set(err, ISD_ERR_INVALID, 0, "template: index: cannot index value");
            return NULL;
        }
    }
    return cur != NULL ? json_incref(cur) : json_null();
}

static json_t *fn_join(json_t **a, size_t n)
{
    struct buf b = {0};
    const char *sep = n > 1 && json_is_string(a[1]) ? json_string_value(a[1]) : "";
    json_t *r;
    for (size_t i = 0; json_is_array(a[0]) && i < json_array_size(a[0]); i++) {
        if (i > 0)
            buf_printf(&b, "%s", sep);
        template_print_value(&b, json_array_get(a[0], i));
    }
    r = json_string(b.data != NULL ? b.data : "");
    buf_free(&b);
    return r;
}

static json_t *fn_case(json_t *v, bool upper)
{
    struct buf b = {0};
    json_t *r;
    template_print_value(&b, v);
    for (size_t i = 0; i < b.len; i++)
        b.data[i] = (char)(upper ? toupper((unsigned char)b.data[i]) : tolower((unsigned char)b.data[i]));
    r = json_stringn(b.data != NULL ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

static json_t *fn_len(json_t *v, struct isd_error **err)
{
    if (json_is_array(v))
        return json_integer((json_int_t)json_array_size(v));
    if (json_is_object(v))
        return json_integer((json_int_t)json_object_size(v));
    if (json_is_string(v))
        return json_integer((json_int_t)json_string_length(v));
    isd_error_set(err, ISD_ERR_INVALID, 0, "template: len of a scalar");
    return NULL;
}

/* Go's print (a space between two operands when neither is a string) and println (always, and a newline). */
static json_t *fn_print(json_t **a, size_t n, bool ln)
{
    struct buf b = {0};
    json_t *r;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (ln || (!json_is_string(a[i - 1]) && !json_is_string(a[i]))))
            buf_printf(&b, " ");
        template_print_value(&b, a[i]);
    }
    if (ln)
        buf_printf(&b, "\n");
    r = json_stringn_nocheck(b.data != NULL ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

/* One printf verb (%[-0][width][.prec](s|v|d|q)) of value v into b. */
static void printf_verb(struct buf *b, const char *spec, size_t speclen, char verb, const json_t *v)
{
    struct buf val = {0};
    cleanup_free char *fmt = NULL;
    if (verb == 'd' && json_is_integer(v)) {
        fmt = xasprintf("%%%.*s" JSON_INTEGER_FORMAT, (int)speclen, spec);
        buf_printf(b, fmt, json_integer_value(v));
        return;
    }
    if (verb == 'q') {
        cleanup_free char *q = json_dumps(v, JSON_ENCODE_ANY);
        buf_printf(&val, "%s", q != NULL ? q : "\"\"");
    } else
        template_print_value(&val, v);
    fmt = xasprintf("%%%.*ss", (int)speclen, spec);
    buf_printf(b, fmt, val.data != NULL ? val.data : "");
    buf_free(&val);
}

static json_t *fn_printf(json_t **a, size_t n)
{
    const char *f = json_is_string(a[0]) ? json_string_value(a[0]) : "";
    struct buf b = {0};
    size_t next = 1;
    json_t *r;
    for (const char *p = f; *p != '\0'; p++) {
        size_t speclen;
        if (*p != '%') {
            buf_append(&b, p, 1);
            continue;
        }
        if (p[1] == '%') {
            buf_append(&b, p++, 1);
            continue;
        }
        speclen = strspn(p + 1, "-+ 0123456789.");
        if (p[1 + speclen] == '\0')
            break;
        if (next < n)
            printf_verb(&b, p + 1, speclen, p[1 + speclen], a[next++]);
        else
            buf_printf(&b, "%%!%c(MISSING)", p[1 + speclen]);
        p += 1 + speclen;
    }
    r = json_stringn_nocheck(b.data != NULL ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

static json_t *call_fn(const char *fn, json_t **a, size_t n, struct isd_error **err)
{
    cleanup_free char *s = NULL;
    size_t need = streq(fn, "and") || streq(fn, "or") || streq(fn, "eq") || streq(fn, "ne") || streq(fn, "join") ||
                          streq(fn, "index")
                      ? 2
                  : streq(fn, "print") || streq(fn, "println") ? 0
                                                               : 1;
    if (n < need && !(streq(fn, "index") && n == 1)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "template: wrong number of args for %s", fn);
        return NULL;
    }
    if (streq(fn, "json")) {
        s = json_dumps(a[0], JSON_COMPACT | JSON_ENCODE_ANY);
        return json_string(s != NULL ? s : "null");
    }
    if (streq(fn, "print") || streq(fn, "println"))
        return fn_print(a, n, streq(fn, "println"));
    if (streq(fn, "printf"))
        return fn_printf(a, n);
    if (streq(fn, "index"))
        return fn_index(a, n, err);
    if (streq(fn, "join"))
        return fn_join(a, n);
    if (streq(fn, "upper") || streq(fn, "lower"))
        return fn_case(a[0], streq(fn, "upper"));
    if (streq(fn, "len"))
        return fn_len(a[0], err);
    if (streq(fn, "not"))
        return json_boolean(!truthy(a[0]));
    if (streq(fn, "eq") || streq(fn, "ne"))
        return json_boolean(json_equal(a[0], a[1]) == streq(fn, "eq"));
    if (streq(fn, "and"))
        return json_incref(truthy(a[0]) ? a[1] : a[0]);
    if (streq(fn, "or"))
        return json_incref(truthy(a[0]) ? a[0] : a[1]);
    isd_error_set(err, ISD_ERR_INVALID, 0, "template: function \"%s\" not defined", fn);
    return NULL;
}

/* $, $name or $name.Field.Path. */
static json_t *eval_var(const struct scope *sc, const char *s)
{
    const char *dot = strchr(s, '.');
    size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);
    const json_t *v = NULL;
    if (len == 1)
        v = sc->root;
    for (const struct scope *c = sc; v == NULL && c != NULL; c = c->up)
        for (int i = 0; i < 2 && v == NULL; i++)
            if (c->name[i] != NULL && strlen(c->name[i]) == len && strncmp(c->name[i], s, len) == 0)
                v = c->val[i];
    if (v == NULL)
        return NULL;
    return dot != NULL ? eval_field(v, dot) : json_incref((json_t *)v);
}

static json_t *eval_tok(const struct tok *t, const json_t *dot, const struct scope *sc, struct isd_error **err)
{
    if (t->kind == T_FIELD)
        return eval_field(dot, t->s);
    if (t->kind == T_VAR) {
        json_t *v = eval_var(sc, t->s);
        if (v == NULL)
            isd_error_set(err, ISD_ERR_INVALID, 0, "template: undefined variable \"%s\"", t->s);
        return v;
    }
    if (t->kind == T_INT)
        return json_integer(t->n);
    /* nocheck: a literal need not be UTF-8 (json_string would return NULL for it) */
    return json_string_nocheck(t->s != NULL ? t->s : "");
}

static json_t *eval_pipe(const struct node *nd, const json_t *dot, const struct scope *sc, struct isd_error **err)
{
    json_t *prev = NULL;
    for (size_t i = 0; i < nd->npipe; i++) {
        const struct cmd *c = &nd->pipe[i];
        size_t n = c->nargs + (prev != NULL ? 1 : 0);
        json_t **a = xcalloc(n + 1, sizeof(json_t *));
        json_t *r;
        bool bad = false;
        for (size_t j = 0; j < c->nargs; j++)
            bad = bad || (a[j] = eval_tok(&c->args[j], dot, sc, err)) == NULL;
        if (prev != NULL)
            a[c->nargs] = prev;
        r = bad ? NULL : c->fn == NULL ? json_incref(a[0]) : call_fn(c->fn, a, n, err);
        for (size_t j = 0; j < n; j++)
            json_decref(a[j]);
        free(a);
        if (r == NULL)
            return NULL;
        prev = r;
    }
    return prev;
}

static int exec_list(const struct node_list *l, const json_t *dot, const struct scope *sc, bool cells, struct buf *out,
                     struct isd_error **err);

/* One iteration: dot = elem, and the range's variables ($k = key or index, $v = elem) in scope. */
static int exec_iter(const struct node *nd, json_t *key, const json_t *elem, const struct scope *sc, struct buf *out,
                     struct isd_error **err)
{
    struct scope inner = {{nd->vars[0], nd->vars[1]}, {key, elem}, sc, sc->root};
    int rc = exec_list(&nd->body, elem, &inner, false, out, err);
    json_decref(key);
    return rc;
}

/* Go ranges over a map in the order of its sorted keys. */
static int exec_range(const struct node *nd, const json_t *v, const json_t *dot, const struct scope *sc,
                      struct buf *out, struct isd_error **err)
{
    const char *k, **keys;
    json_t *x;
    size_t n = 0;
    int rc = 0;
    if (!truthy(v))
        return exec_list(&nd->els, dot, sc, false, out, err);
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (exec_iter(nd, json_integer((json_int_t)i), json_array_get(v, i), sc, out, err) < 0)
                return -1;
        return 0;
    }
    if (!json_is_object(v))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "template: range can't iterate over a scalar");
    keys = xcalloc(json_object_size(v) + 1, sizeof(char *));
    json_object_foreach((json_t *)v, k, x) keys[n++] = k;
    qsort(keys, n, sizeof(char *), cmp_keys);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = exec_iter(nd, json_string(keys[i]), json_object_get(v, keys[i]), sc, out, err);
    free(keys);
    return rc;
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

static int exec_list(const struct node_list *l, const json_t *dot, const struct scope *sc, bool cells, struct buf *out,
                     struct isd_error **err)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct node *nd = &l->v[i];
        json_t *v;
        int rc = 0;
        if (nd->kind == N_TEXT) {
            if (cells && is_blank(nd->text) && i > 0 && i + 1 < l->n)
                buf_append(out, (char[]){TEMPLATE_CELL_SEP}, 1);
            else
                buf_printf(out, "%s", nd->text);
            continue;
        }
        v = eval_pipe(nd, dot, sc, err);
        if (v == NULL)
            return -1;
        if (nd->kind == N_ACTION)
            template_print_value(out, v);
        else if (nd->kind == N_IF)
            rc = exec_list(truthy(v) ? &nd->body : &nd->els, dot, sc, false, out, err);
        else
            rc = exec_range(nd, v, dot, sc, out, err);
        json_decref(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int template_exec(const struct template *t, const json_t *data, bool cells, struct buf *out, struct isd_error **err)
{
    struct scope top = {.root = data};
    return exec_list(&t->root, data, &top, cells, out, err);
}

char *template_render(const char *text, const json_t *data, struct isd_error **err)
{
    struct template *t = template_parse(text, err);
    struct buf b = {0};
    if (t == NULL)
        return NULL;
    if (template_exec(t, data, false, &b, err) < 0) {
        buf_free(&b);
        template_free(t);
        return NULL;
    }
    template_free(t);
    return buf_steal(&b);
}
