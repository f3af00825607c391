/*
 * The container log in Docker's json-file format: one JSON object per line
 * {"log":"...","stream":"stdout|stderr","time":"RFC3339Nano"}, split at newlines, rotated by size
 * (FILE -> FILE.1 -> ... keeping max_file files in total). With cri set, the CRI format kubelet reads instead:
 * "<RFC3339Nano> <stdout|stderr> <F|P> <line>" per line. Write errors are ignored so a full disk
 * never blocks the container. Not thread-safe.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/isulad-shim/shim.h"

#define LOG_BATCH 16384 /* bytes of entries gathered per write() */
/* A line without its newline is held back up to this size (docker's json-file copier splits lines at 16 KiB). */
#define SHIM_LOG_LINE_HOLD 16384

static int log_reopen(struct shim_log *l)
{
    struct stat st;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0)
        return -1;
    l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
    return 0;
}

int shim_log_open(struct shim_log *l, const char *path, long long max_size, int max_file)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    l->path = xstrdup(path);
    l->max_size = max_size;
    l->max_file = max_file < 1 ? 1 : max_file;
    return log_reopen(l);
}

static void log_rotate(struct shim_log *l)
{
    if (l->max_file <= 1) {
        if (l->fd >= 0 && ftruncate(l->fd, 0) == 0)
            l->size = 0;
        return;
    }
    file_rotate(l->path, l->max_file);
    log_reopen(l);
}

static void log_flush(struct shim_log *l, struct buf *out)
{
    if (l->fd >= 0 && buf_size(out) > 0 && fd_write_all(l->fd, buf_head(out), buf_size(out)) == 0)
        l->size += (long long)buf_size(out);
    buf_consume(out, buf_size(out));
}

/* Appends one entry to out; rotates first (after writing out) when the file is full. */
static void log_entry(struct shim_log *l, struct buf *out, const char *stream, const char *time, const char *data,
                      size_t n)
{
    if (l->max_size > 0 && l->size + (long long)buf_size(out) >= l->max_size) {
        log_flush(l, out);
        if (l->size >= l->max_size)
            log_rotate(l);
    }
    if (l->cri) { /* a line without its newline is a partial one (P), continued by the next entry */
        bool full = n > 0 && data[n - 1] == '\n';
        buf_appends(out, time);
        buf_appends(out, " ");
        buf_appends(out, stream);
        buf_appends(out, full ? " F " : " P ");
        buf_append(out, data, full ? n - 1 : n);
        buf_appends(out, "\n");
        return;
    }
    buf_appends(out, "{\"log\":");
    shim_json_string(out, data, n);
    buf_appends(out, ",\"stream\":\"");
    buf_appends(out, stream);
    buf_appends(out, "\",\"time\":\"");
    buf_appends(out, time);
    buf_appends(out, "\"}\n");
}

/* Splits data at newlines into entries, written with as few write() calls as rotation allows. */
static void log_lines(struct shim_log *l, const char *stream, const char *data, size_t n)
{
    struct buf out = {0};
    char now[48];
    time_format_rfc3339_nano(now_ns(), now, sizeof(now));
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t len = nl != NULL ? (size_t)(nl - data) + 1 : n;
        log_entry(l, &out, stream, now, data, len);
        if (buf_size(&out) >= LOG_BATCH)
            log_flush(l, &out);
        data += len;
        n -= len;
    }
    log_flush(l, &out);
    buf_free(&out);
}

void shim_log_write(struct shim_log *l, int stream, const char *data, size_t n)
{
    const char *name = stream == SHIM_FRAME_STDERR ? "stderr" : "stdout";
    struct buf *hold = &l->hold[stream == SHIM_FRAME_STDERR ? 2 : 1];
    const char *all, *nl;
    size_t total, keep;

    if (n == 0) { /* EOF: write what is held back */
        log_lines(l, name, buf_head(hold), buf_size(hold));
        buf_free(hold);
        return;
    }
    buf_append(hold, data, n);
    all = buf_head(hold);
    total = buf_size(hold);
    nl = memrchr(all, '\n', total);
    keep = nl != NULL ? total - (size_t)(nl - all) - 1 : total;
    if (keep >= SHIM_LOG_LINE_HOLD) /* too long a line: a partial entry, never a split UTF-8 character */
        keep = shim_utf8_incomplete_tail(all, total);
    log_lines(l, name, all, total - keep);
    buf_consume(hold, total - keep);
}

void shim_log_close(struct shim_log *l)
{
    shim_log_write(l, SHIM_FRAME_STDOUT, NULL, 0);
    shim_log_write(l, SHIM_FRAME_STDERR, NULL, 0);
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    free(l->path);
    l->path = NULL;
}

void shim_log_reopen(struct shim_log *l)
{
    if (l->path != NULL)
        log_reopen(l);
}
