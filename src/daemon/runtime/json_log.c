/* The json-file log the shim writes: read back with its rotated files, filtered, framed, followed. */
#include "daemon/runtime/json_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/runtime/json_log_line.h"

struct log_entry {
    int stream; /* 1 stdout, 2 stderr */
    long long ns;
    char *text;
    size_t len;
};

/* Output is gathered and written in blocks of this size (not two writes a line). */
#define LOG_OUT_BLOCK (256 * 1024)
/* The tail is read backwards from the end of the file in blocks of this size. */
#define LOG_TAIL_BLOCK (64 * 1024)
/* Reading forwards: the file is read in blocks of this size and split into lines in place. */
#define LOG_READ_BLOCK (1024 * 1024)

struct log_ctx {
    const struct json_log_opts *o;
    bool tty;
    int out_fd;
    struct buf out; /* not yet written */
    bool failed;
};

static void out_flush(struct log_ctx *x)
{
    if (!x->failed && x->out.len > 0 && fd_write_all(x->out_fd, x->out.data, x->out.len) < 0)
        x->failed = true;
    x->out.len = 0;
}

/* The frame header (none with a tty) and the time stamp of an entry whose text follows: returns where the
 * header is in x->out, for emit_end to write the length into. */
static size_t emit_begin(struct log_ctx *x, int stream, long long ns)
{
    size_t at = x->out.len;
    if (!x->tty) {
        unsigned char hdr[8] = {(unsigned char)stream, 0, 0, 0, 0, 0, 0, 0};
        buf_append(&x->out, hdr, 8);
    }
    if (x->o->timestamps) {
        cleanup_free char *ts = time_rfc3339_nano(ns);
        buf_append(&x->out, ts, strlen(ts));
        buf_append(&x->out, " ", 1);
    }
    return at;
}

static void emit_end(struct log_ctx *x, size_t at)
{
    if (!x->tty) {
        uint32_t be = htonl((uint32_t)(x->out.len - at - 8));
        memcpy(x->out.data + at + 4, &be, 4);
    }
    if (x->out.len >= LOG_OUT_BLOCK)
        out_flush(x);
}

static void emit(struct log_ctx *x, const struct log_entry *e)
{
    size_t at;
    if (x->failed)
        return;
    at = emit_begin(x, e->stream, e->ns);
    buf_append(&x->out, e->text, e->len);
    emit_end(x, at);
}

static bool wanted(const struct json_log_opts *o, int stream, long long ns)
{
    if ((stream == 1 && !o->out) || (stream == 2 && !o->err))
        return false;
    return (o->since_ns <= 0 || ns >= o->since_ns) && (o->until_ns <= 0 || ns <= o->until_ns);
}

static bool need_time(const struct json_log_opts *o)
{
    return o->since_ns > 0 || o->until_ns > 0 || o->timestamps;
}

/* The time of a split line, 0 when it is not needed or not an RFC 3339 time. */
static long long line_time(bool with_time, const struct json_log_line *l)
{
    char t[64];
    long long ns;
    if (!with_time || l->time_len >= sizeof(t))
        return 0;
    memcpy(t, l->time, l->time_len);
    t[l->time_len] = '\0';
    return time_parse_rfc3339(t, &ns) == 0 ? ns : 0;
}

/* A line of another shape (another writer's json-file): through the JSON parser. */
static bool parse_line_slow(const char *line, size_t n, bool with_time, struct log_entry *e)
{
    cleanup_json json_t *j = json_parse(line, n, NULL);
    json_t *text = json_object_get(j, "log");
    if (!json_is_string(text))
        return false;
    e->stream = streq(json_get_str(j, "stream"), "stderr") ? 2 : 1;
    if (!with_time || time_parse_rfc3339(json_get_str(j, "time"), &e->ns) < 0)
        e->ns = 0;
    e->len = json_string_length(text);
    e->text = xmalloc(e->len + 1);
    memcpy(e->text, json_string_value(text), e->len + 1);
    return true;
}

static bool parse_line_n(const char *line, size_t n, bool with_time, struct log_entry *e)
{
    struct json_log_line l;
    if (!json_log_line_split(line, n, &l))
        return parse_line_slow(line, n, with_time, e);
    e->stream = l.stream;
    e->ns = line_time(with_time, &l);
    e->text = xmalloc(l.log_len + 1);
    e->len = json_log_line_text(&l, e->text);
    return true;
}

/* One line read forwards: the shim's shape is filtered and decoded straight into the output. */
static void handle_line(struct log_ctx *x, const char *line, size_t n)
{
    struct json_log_line l;
    struct log_entry e;
    if (x->failed)
        return;
    if (json_log_line_split(line, n, &l)) {
        long long ns = line_time(need_time(x->o), &l);
        size_t at;
        if (!wanted(x->o, l.stream, ns))
            return;
        at = emit_begin(x, l.stream, ns);
        buf_append_done(&x->out, json_log_line_text(&l, buf_append_space(&x->out, l.log_len)));
        emit_end(x, at);
        return;
    }
    if (!parse_line_slow(line, n, need_time(x->o), &e))
        return;
    if (wanted(x->o, e.stream, e.ns))
        emit(x, &e);
    free(e.text);
}

/* A file read forwards in blocks; a line still being written stays in buf for the next round. */
struct line_reader {
    int fd;
    char *buf;
    size_t len, cap;
};

static void reader_close(struct line_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    *r = (struct line_reader){.fd = -1};
}

/* Hands every complete line the file holds now to handle_line; returns the number of lines. */
static long read_lines(struct log_ctx *x, struct line_reader *r)
{
    long count = 0;
    while (!x->failed) {
        size_t start = 0;
        const char *nl;
        ssize_t n;
        if (r->cap - r->len < LOG_READ_BLOCK / 2) {
            r->cap = r->cap < LOG_READ_BLOCK ? LOG_READ_BLOCK : r->cap * 2;
            r->buf = xrealloc(r->buf, r->cap);
        }
        n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        r->len += (size_t)n;
        while ((nl = memchr(r->buf + start, '\n', r->len - start)) != NULL) {
            size_t end = (size_t)(nl - r->buf);
            handle_line(x, r->buf + start, end - start);
            start = end + 1;
            count++;
        }
        memmove(r->buf, r->buf + start, r->len - start);
        r->len -= start;
    }
    return count;
}

static void follow(struct log_ctx *x, const char *path, struct line_reader *r, bool (*writing)(void *ctx), void *ctx)
{
    struct stat st_f, st_p;
    for (;;) {
        bool running = writing(ctx);
        long n = read_lines(x, r);
        out_flush(x);
        if (x->failed || (!running && n == 0))
            return;
        if (n > 0)
            continue;
        /* Rotated: the shim renamed the file; drain the old one above, then continue with the new one. */
        if (fstat(r->fd, &st_f) == 0 && stat(path, &st_p) == 0 && st_f.st_ino != st_p.st_ino) {
            int nfd = open(path, O_RDONLY | O_CLOEXEC);
            if (nfd >= 0) {
                close(r->fd);
                r->fd = nfd;
                r->len = 0;
                continue;
            }
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
}

/* --tail N, read backwards from the end of the newest file: the entries that pass the filters, newest first. */
struct tail_set {
    struct log_entry *v;
    size_t n, want;
    bool done; /* enough of them, or older than since */
};

static void tail_offer(struct log_ctx *x, struct tail_set *t, const char *line, size_t len)
{
    struct log_entry e;
    if (t->done || len == 0 || !parse_line_n(line, len, need_time(x->o), &e))
        return;
    if (x->o->since_ns > 0 && e.ns < x->o->since_ns)
        t->done = true; /* the log is in time order: nothing older can match */
    if (t->done || !wanted(x->o, e.stream, e.ns)) {
        free(e.text);
        return;
    }
    t->v[t->n++] = e;
    t->done = t->n == t->want;
}

/* The line block[from, to) followed by the carry (its end, read before from a later block). */
static void tail_offer_joined(struct log_ctx *x, struct tail_set *t, const char *seg, size_t len, struct buf *carry)
{
    if (carry->len == 0) {
        tail_offer(x, t, seg, len);
        return;
    }
    struct buf line = {0};
    buf_append(&line, seg, len);
    buf_append(&line, carry->data, carry->len);
    tail_offer(x, t, line.data, line.len);
    buf_free(&line);
    carry->len = 0;
}

static void carry_prepend(struct buf *carry, const char *data, size_t len)
{
    struct buf b = {0};
    buf_append(&b, data, len);
    if (carry->len > 0)
        buf_append(&b, carry->data, carry->len);
    buf_free(carry);
    *carry = b;
}

/* Scans fd backwards. What follows the last newline (a line still being written) is left out; returns the
 * offset just after that newline (where following goes on). */
static off_t tail_scan(struct log_ctx *x, struct tail_set *t, int fd)
{
    struct stat st;
    struct buf carry = {0};
    cleanup_free char *block = xmalloc(LOG_TAIL_BLOCK);
    off_t pos, complete = -1;
    if (fstat(fd, &st) < 0)
        return 0;
    pos = st.st_size;
    while (pos > 0 && !t->done) {
        size_t n = pos >= LOG_TAIL_BLOCK ? LOG_TAIL_BLOCK : (size_t)pos, lend = n;
        pos -= (off_t)n;
        if (pread(fd, block, n, pos) != (ssize_t)n)
            break;
        for (size_t i = n; i-- > 0 && !t->done;) {
            if (block[i] != '\n')
                continue;
            if (complete < 0) {
                complete = pos + (off_t)i + 1;
                carry.len = 0;
            } else
                tail_offer_joined(x, t, block + i + 1, lend - i - 1, &carry);
            lend = i;
        }
        if (complete >= 0)
            carry_prepend(&carry, block, lend);
    }
    if (pos == 0 && !t->done && carry.len > 0)
        tail_offer(x, t, carry.data, carry.len); /* the file's first line */
    buf_free(&carry);
    return complete >= 0 ? complete : 0;
}

/* --tail N: backwards through the newest file, then the rotated ones while more are wanted; emitted oldest
 * first. Returns the newest file open at the end of its last complete line (for follow), or -1. */
static int copy_tail(struct log_ctx *x, const char *path)
{
    struct tail_set t = {.want = (size_t)x->o->tail, .done = x->o->tail == 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    off_t end = 0;
    t.v = xcalloc(t.want + 1, sizeof(*t.v));
    if (fd >= 0)
        end = tail_scan(x, &t, fd);
    for (int i = 1; i <= 9 && !t.done; i++) {
        cleanup_free char *old = xasprintf("%s.%d", path, i);
        cleanup_close int ofd = open(old, O_RDONLY | O_CLOEXEC);
        if (ofd >= 0)
            tail_scan(x, &t, ofd);
    }
    for (size_t i = t.n; i-- > 0;) {
        emit(x, &t.v[i]);
        free(t.v[i].text);
    }
    free(t.v);
    out_flush(x);
    if (fd >= 0)
        lseek(fd, end, SEEK_SET);
    return fd;
}

/* Every entry of the rotated files, oldest first, then of the current one; returns the reader of the current
 * one at its end (fd -1 when there is none). */
static struct line_reader copy_all(struct log_ctx *x, const char *path)
{
    struct line_reader r = {.fd = -1};
    for (int i = 9; i >= 1 && !x->failed; i--) {
        cleanup_free char *old = xasprintf("%s.%d", path, i);
        r.fd = open(old, O_RDONLY | O_CLOEXEC);
        if (r.fd >= 0) {
            read_lines(x, &r);
            close(r.fd);
        }
        r.len = 0;
    }
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd >= 0)
        read_lines(x, &r);
    return r;
}

void json_log_copy(const char *path, const struct json_log_opts *o, int out_fd, bool (*writing)(void *ctx), void *ctx)
{
    struct log_ctx x = {.o = o, .tty = o->tty, .out_fd = out_fd};
    struct line_reader r = {.fd = -1};
    if (o->tail >= 0)
        r.fd = copy_tail(&x, path);
    else
        r = copy_all(&x, path);
    out_flush(&x);
    if (o->follow && r.fd >= 0)
        follow(&x, path, &r, writing, ctx);
    reader_close(&r);
    buf_free(&x.out);
}
