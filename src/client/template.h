/*
 * A subset of Go's text/template for `inspect -f` and `ps --format`, evaluated over JSON:
 * {{.A.B}} (exact key, then case-insensitive), {{.}}, {{json X}}, {{index X "k" 0}}, {{join X ","}},
 * {{upper X}}, {{lower X}}, {{len X}}, pipelines `X | json`, {{if X}}..{{else}}..{{end}},
 * {{range X}}..{{end}} (dot = element; `range $v := X`, `range $k, $v := X` with $k the key or index, maps in
 * sorted key order), variables `$`, `$v`, `$v.Field`, {{print}}, {{println}}, {{printf "%-10s %d" A B}}
 * (verbs s, v, d, q with flags and width), string and integer literals, `{{-`/`-}}` trimming.
 * A parsed template is immutable and may be shared between threads.
 */
#ifndef ISD_CLIENT_TEMPLATE_H
#define ISD_CLIENT_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/util.h"

/* Separator emitted between table cells when executing with cells = true. */
#define TEMPLATE_CELL_SEP '\x1f'

struct template;

struct template *template_parse(const char *text, struct isd_error **err);
void template_free(struct template *t);
/*
 * Appends the output for data to out. cells = true: whitespace-only text between actions at the top
 * level is emitted as TEMPLATE_CELL_SEP (table layout).
 */
int template_exec(const struct template *t, const json_t *data, bool cells, struct buf *out, struct isd_error **err);
/* Parse + exec in one go; returns the output (caller frees) or NULL. */
char *template_render(const char *text, const json_t *data, struct isd_error **err);
/* Prints a value as Go's fmt would (strings raw, map[k:v], [a b]). */
void template_print_value(struct buf *out, const json_t *v);

#endif
