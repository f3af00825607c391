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

struct log_entry {
    int stream; /* 1 stdout, 2 stderr */
    long long ns;
    char *text;
};

/* Output is gathered and written in blocks of this size (not two writes a line). */
#define LOG_OUT_BLOCK (256 * 1024)
/* The tail is read backwards from the end of the file in blocks of this size. */
#define LOG_TAIL_BLOCK (64 * 1024)

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

static void emit(struct log_ctx *x, const struct log_entry *e)
{
    cleanup_free char *ts = x->o->timestamps ? time_rfc3339_nano(e->ns) : NULL;
    size_t len = strlen(e->text) + (ts != NULL ? strlen(ts) + 1 : 0);
    if (x->failed)
        return;
    if (!x->tty) {
        unsigned char hdr[8] = {(unsigned char)e->stream, 0, 0, 0};
        uint32_t be = htonl((uint32_t)len);
        memcpy(hdr + 4, &be, 4);
        buf_append(&x->out, hdr, 8);
    }
    if (ts != NULL)
        buf_printf(&x->out, "%s ", ts);
    buf_append(&x->out, e->text, strlen(e->text));
    if (x->out.len >= LOG_OUT_BLOCK)
        out_flush(x);
}

/* Emits e when it passes the stream and time filters (reading forwards: every entry, or following). */
static void handle_entry(struct log_ctx *x, struct log_entry *e)
{
    if ((e->stream == 1 && x->o->out) || (e->stream == 2 && x->o->err)) {
        if ((x->o->since_ns <= 0 || e->ns >= x->o->since_ns) && (x->o->until_ns <= 0 || e->ns <= x->o->until_ns))
            emit(x, e);
    }
    free(e->text);
}

static bool need_time(const struct json_log_opts *o)
{
    return o->since_ns > 0 || o->until_ns > 0 || o->timestamps;
}

static bool parse_line_n(const char *line, size_t n, bool with_time, struct log_entry *e)
{
    cleanup_json json_t *j = json_parse(line, n, NULL);
    const char *text = json_get_str(j, "log");
    if (text == NULL)
        return false;
    e->stream = streq(json_get_str(j, "stream"), "stderr") ? 2 : 1;
    if (!with_time || time_parse_rfc3339(json_get_str(j, "time"), &e->ns) < 0)
        e->ns = 0;
    e->text = xstrdup(text);
    return true;
}

static bool parse_line(const char *line, bool with_time, struct log_entry *e)
{
    return parse_line_n(line, strlen(line), with_time, e);
}

/* Reads complete lines from f; returns the number read. */
static int read_lines(struct log_ctx *x, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int count = 0;
    long pos = ftell(f); /* once: the position is counted from here (no lseek a line) */
    while ((n = getline(&line, &cap, f)) > 0) {
        struct log_entry e;
        if (line[n - 1] != '\n') {
            fseek(f, pos, SEEK_SET); /* a line still being written: read it next round */
            break;
        }
        pos += n;
        if (parse_line(line, need_time(x->o), &e))
            handle_entry(x, &e);
        count++;
    }
    clearerr(f);
    free(line);
    return count;
}

static void follow(struct log_ctx *x, const char *path, FILE *f, bool (*writing)(void *ctx), void *ctx)
{
    struct stat st_f, st_p;
    for (;;) {
        bool running = writing(ctx);
        int n = read_lines(x, f);
        out_flush(x);
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
    if (t->done || (e.stream == 1 && !x->o->out) || (e.stream == 2 && !x->o->err) ||
        (x->o->until_ns > 0 && e.ns > x->o->until_ns)) {
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
 * first. Returns the newest file open at the end of its last complete line (for follow), or NULL. */
static FILE *copy_tail(struct log_ctx *x, const char *path)
{
    struct tail_set t = {.want = (size_t)x->o->tail, .done = x->o->tail == 0};
    FILE *f = fopen(path, "re");
    off_t end = 0;
    t.v = xcalloc(t.want + 1, sizeof(*t.v));
    if (f != NULL)
        end = tail_scan(x, &t, fileno(f));
    for (int i = 1; i <= 9 && !t.done; i++) {
        cleanup_free char *old = xasprintf("%s.%d", path, i);
        cleanup_close int fd = open(old, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            tail_scan(x, &t, fd);
    }
    for (size_t i = t.n; i-- > 0;) {
        emit(x, &t.v[i]);
        free(t.v[i].text);
    }
    free(t.v);
    out_flush(x);
    if (f != NULL)
        fseek(f, (long)end, SEEK_SET);
    return f;
}

void json_log_copy(const char *path, const struct json_log_opts *o, int out_fd, bool (*writing)(void *ctx), void *ctx)
{
    struct log_ctx x = {.o = o, .tty = o->tty, .out_fd = out_fd};
    FILE *f;
    if (o->tail >= 0) {
        f = copy_tail(&x, path);
        if (o->follow && f != NULL)
            follow(&x, path, f, writing, ctx);
        else if (f != NULL)
            fclose(f);
        buf_free(&x.out);
        return;
    }
    for (int i = 9; i >= 1; i--) {
        cleanup_free char *old = xasprintf("%s.%d", path, i);
        FILE *of = fopen(old, "re");
        if (of != NULL) {
            read_lines(&x, of);
            fclose(of);
        }
    }
    f = fopen(path, "re");
    if (f != NULL)
        read_lines(&x, f);
    out_flush(&x);
    if (o->follow && f != NULL)
        follow(&x, path, f, writing, ctx);
    else if (f != NULL)
        fclose(f);
    buf_free(&x.out);
}
