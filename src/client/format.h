/*
 * Display helpers shared by the CLI commands: Docker-style relative times, sizes, the guide's state
 * words, `isula ps` rows built from GET /containers/json items, and column alignment of tables.
 * Thread-safe; returned strings and objects belong to the caller.
 */
#ifndef ISD_CLIENT_FORMAT_H
#define ISD_CLIENT_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* "Less than a second", "1 second", "13 minutes", "About an hour", "3 days" ... (Docker's units). */
/* "<duration> ago" for an RFC 3339 time, or "-" when empty/zero ("0001-01-01T00:00:00Z"). */
char *format_since(const char *rfc3339, long long now_ns);
/* Decimal size with up to 3 decimals: "1.376 MB", "512 B". */
char *format_size(long long bytes);
/* Docker's size text (ps -s): three significant digits in powers of 1000, "12B", "300kB", "1.23MB". */
char *format_docker_size(long long bytes);
/* Binary size with two decimals, as isula stats prints them: "56.00 KiB", "7.45 GiB", "0.00 B". */
char *format_binary_size(double bytes);
/* The guide's state word for a Docker state: created -> inited, others unchanged. */
const char *format_state_word(const char *docker_state);

/* Display fields of one ps row: ID Image Status Pid Command ExitCode RestartCount StartAt FinishAt Runtime
 * Names Created State Labels Size (strings; Size is Docker's "12B (virtual 4.4MB)" when the item has SizeRw). */
json_t *format_ps_row(const json_t *item, bool no_trunc, long long now_ns);
/* The header row for `table` templates: the same keys mapped to column titles. */
json_t *format_ps_header(void);

/* Prints rows (each a strv of cells) left-aligned with one space between columns. */
void format_table_print(FILE *f, char **const *rows, size_t n);
/* Docker's tabwriter layout, as the guide's docker examples show it (minwidth 20, padding 3 for history): each
 * column as wide as its widest cell plus padding, at least minwidth; the last cell of a row is not padded. */
void format_table_print_padded(FILE *f, char **const *rows, size_t n, size_t minwidth, size_t padding);
/* Frees n rows (strvs) and the array holding them. */
void format_rows_free(char ***rows, size_t n);
/* Splits a rendered row at TEMPLATE_CELL_SEP into cells. */
char **format_split_cells(const char *row);

#endif
