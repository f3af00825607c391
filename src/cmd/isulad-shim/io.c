/*
 * The container's side of the stdio: queued non-blocking writes to its stdin (pipe or pty master),
 * window resizes, and reads of its output that feed the log and every attach client.
 * Not thread-safe.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/isulad-shim/shim.h"

void shim_stdin_flush(struct shim *s)
{
    while (s->in_fd >= 0 && buf_size(&s->in_buf) > 0) {
        ssize_t w = write(s->in_fd, buf_head(&s->in_buf), buf_size(&s->in_buf));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return;
        if (w <= 0) { /* the reader is gone: nothing more can be delivered */
            buf_free(&s->in_buf);
            close(s->in_fd);
            s->in_fd = -1;
            return;
        }
        buf_consume(&s->in_buf, (size_t)w);
    }
    if (s->in_fd >= 0 && s->in_close_pending && buf_size(&s->in_buf) == 0) {
        close(s->in_fd);
        s->in_fd = -1;
    }
}

void shim_stdin_data(struct shim *s, const char *data, size_t n)
{
    if (s->in_fd < 0 || s->in_close_pending || s->in_ended || n == 0)
        return;
    buf_append(&s->in_buf, data, n);
    s->in_sent = true;
    s->in_last = data[n - 1];
    shim_stdin_flush(s);
}

void shim_stdin_close(struct shim *s)
{
    if (s->args.terminal)
        return; /* a pty has no separate stdin to close */
    s->in_close_pending = true;
    shim_stdin_flush(s);
}

/* Whether c, the last input byte, leaves a canonical-mode line discipline at the start of a line. */
static bool line_ended(const struct termios *t, char c)
{
    unsigned char u = (unsigned char)c;
    if (u == '\n' || u == t->c_cc[VEOF])
        return true;
    if (u == '\r' && (t->c_iflag & ICRNL) && !(t->c_iflag & IGNCR))
        return true;
    return u != _POSIX_VDISABLE && (u == t->c_cc[VEOL] || u == t->c_cc[VEOL2]);
}

void shim_stdin_end(struct shim *s)
{
    struct termios t;
    char eof[2];
    if (!s->args.terminal) {
        shim_stdin_close(s);
        return;
    }
    if (s->in_fd < 0 || s->in_ended)
        return;
    s->in_ended = true;
    /* on Linux the master's termios calls reach the slave's settings, the ones the process set */
    if (tcgetattr(s->in_fd, &t) < 0 || t.c_cc[VEOF] == _POSIX_VDISABLE)
        return;
    eof[0] = eof[1] = (char)t.c_cc[VEOF];
    /* canonical mode: VEOF within a line only hands the line over to the reader; a second one, at the start of
     * the next, is the end of its input (read returns 0) */
    bool begun = (t.c_lflag & ICANON) && s->in_sent && !line_ended(&t, s->in_last);
    buf_append(&s->in_buf, eof, begun ? 2 : 1);
    shim_stdin_flush(s);
}

void shim_resize(struct shim *s, unsigned rows, unsigned cols)
{
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (s->args.terminal && s->out_fd >= 0)
        ioctl(s->out_fd, TIOCSWINSZ, &ws);
}

int shim_output_read(struct shim *s, int fd, int stream)
{
    char buf[32768];
    for (int round = 0; round < 4 && !shim_attach_blocked(s); round++) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 0;
        if (r <= 0) { /* EOF, or EIO from a pty whose slave side is closed */
            if (s->has_log)
                shim_log_write(&s->log, stream, NULL, 0);
            return -1;
        }
        if (s->has_log)
            shim_log_write(&s->log, stream, buf, (size_t)r);
        shim_attach_broadcast(s, stream, buf, (size_t)r);
    }
    return 0;
}
