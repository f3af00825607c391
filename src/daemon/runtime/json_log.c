/* The json-file log the shim writes: read back with its rotated files, filtered, framed, followed. */
#include "daemon/runtime/json_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

struct log_entry {
    int stream; /* 1 stdout, 2 stderr */
    long long ns;
    char *text;
};

struct log_ctx {
    const struct json_log_opts *o;
    bool tty;
    int out_fd;
    struct log_entry *ring; /* last `tail` entries when tail >= 0 */
    size_t ring_n, ring_pos;
    bool failed;
};

static void emit(struct log_ctx *x, const struct log_entry *e)
{
    struct buf b = {0};
    unsigned char hdr[8] = {(unsigned char)e->stream, 0, 0, 0};
    if (x->failed)
        return;
    if (x->o->timestamps) {
        cleanup_free char *ts = time_rfc3339_nano(e->ns);
        buf_printf(&b, "%s ", ts);
    }
    buf_append(&b, e->text, strlen(e->text));
    if (!x->tty) {
        uint32_t be = htonl((uint32_t)b.len);
        memcpy(hdr + 4, &be, 4);
        if (fd_write_all(x->out_fd, hdr, 8) < 0)
            x->failed = true;
    }
    if (!x->failed && fd_write_all(x->out_fd, b.data, b.len) < 0)
        x->failed = true;
    buf_free(&b);
}

static void handle_entry(struct log_ctx *x, struct log_entry *e, bool buffered)
{
    if ((e->stream == 1 && !x->o->out) || (e->stream == 2 && !x->o->err) ||
        (x->o->since_ns > 0 && e->ns < x->o->since_ns) || (x->o->until_ns > 0 && e->ns > x->o->until_ns)) {
        free(e->text);
        return;
    }
    if (!buffered || x->o->tail < 0) {
        emit(x, e);
        free(e->text);
        return;
    }
    if (x->o->tail == 0) {
        free(e->text);
        return;
    }
    if (x->ring_n < (size_t)x->o->tail) {
        x->ring[x->ring_n++] = *e;
        return;
    }
    free(x->ring[x->ring_pos].text);
    x->ring[x->ring_pos] = *e;
    x->ring_pos = (x->ring_pos + 1) % x->ring_n;
}

static bool parse_line(const char *line, struct log_entry *e)
{
    cleanup_json json_t *j = json_parse(line, strlen(line), NULL);
    const char *text = json_get_str(j, "log");
    if (text == NULL)
        return false;
    e->stream = streq(json_get_str(j, "stream"), "stderr") ? 2 : 1;
    if (time_parse_rfc3339(json_get_str(j, "time"), &e->ns) < 0)
        e->ns = 0;
    e->text = xstrdup(text);
    return true;
}

/* Reads complete lines from f; returns the number read. */
static int read_lines(struct log_ctx *x, FILE *f, bool buffered)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int count = 0;
    long pos = ftell(f);
    while ((n = getline(&line, &cap, f)) > 0) {
        struct log_entry e;
        if (line[n - 1] != '\n') {
            fseek(f, pos, SEEK_SET); /* a line still being written: read it next round */
            break;
        }
        pos = ftell(f);
        if (parse_line(line, &e))
            handle_entry(x, &e, buffered);
        count++;
    }
    clearerr(f);
    free(line);
    return count;
}

static void flush_ring(struct log_ctx *x)
{
    for (size_t i = 0; i < x->ring_n; i++) {
        struct log_entry *e = &x->ring[(x->ring_pos + i) % x->ring_n];
        emit(x, e);
        free(e->text);
    }
    x->ring_n = 0;
    x->ring_pos = 0;
}

static void follow(struct log_ctx *x, const char *path, FILE *f, bool (*writing)(void *ctx), void *ctx)
{
    struct stat st_f, st_p;
    for (;;) {
        bool running = writing(ctx);
        int n = read_lines(x, f, false);
        if (x->failed || (!running && n == 0)) {
            fclose(f);
            return;
        }
        if (n > 0)
            continue;
        /* Rotated: the shim renamed the file; drain the old one above, then continue with the new one. */
        if (fstat(fileno(f), &st_f) == 0 && stat(path, &st_p) == 0 && st_f.st_ino != st_p.st_ino) {
            FILE *nf = fopen(path, "re");
            if (nf != NULL) {
                fclose(f);
                f = nf;
                continue;
            }
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
}

void json_log_copy(const char *path, const struct json_log_opts *o, int out_fd, bool (*writing)(void *ctx), void *ctx)
{
    struct log_ctx x = {.o = o, .tty = o->tty, .out_fd = out_fd};
    FILE *f;
    x.ring = o->tail > 0 ? xcalloc((size_t)o->tail, sizeof(*x.ring)) : NULL;
    for (int i = 9; i >= 1; i--) {
        cleanup_free char *old = xasprintf("%s.%d", path, i);
        FILE *of = fopen(old, "re");
        if (of != NULL) {
            read_lines(&x, of, true);
            fclose(of);
        }
    }
    f = fopen(path, "re");
    if (f != NULL)
        read_lines(&x, f, true);
    flush_ring(&x);
    free(x.ring);
    if (o->follow && f != NULL)
        follow(&x, path, f, writing, ctx);
    else if (f != NULL)
        fclose(f);
}
