/* The daemon side of the shim's attach socket (runtime/attach.h, docs/design/shim.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/runtime/attach.h"

enum {
    FRAME_STDIN = 0,
    FRAME_STDOUT = 1,
    FRAME_STDERR = 2,
    FRAME_CLOSE_STDIN = 3,
    FRAME_RESIZE = 4,
    FRAME_EXIT = 5,
    FRAME_REOPEN_LOG = 6,
    FRAME_END_STDIN = 7
};

int runtime_attach_connect(const char *state_dir, struct isd_error **err)
{
    /* State paths can exceed sun_path (108 bytes): connect through a directory fd instead. */
    cleanup_close int dfd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;
    if (dfd < 0)
        return isd_error_errno(err, "open `%s`", state_dir);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/attach", dfd);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return isd_error_errno(err, "socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        isd_error_errno(err, "connect to the container's attach socket");
        close(fd);
        return -1;
    }
    return fd;
}

static int send_frame(int fd, int type, const void *data, uint32_t len)
{
    unsigned char hdr[8] = {(unsigned char)type, 0, 0, 0};
    uint32_t be = htonl(len);
    memcpy(hdr + 4, &be, 4);
    if (fd_write_all(fd, hdr, 8) < 0)
        return -1;
    return len > 0 ? fd_write_all(fd, data, len) : 0;
}

/* One frame from the shim to the client. Returns 1 at the exit frame, 0 to go on, -1 when the shim is gone. */
static int forward_shim_frame(int shim_fd, int client_fd, bool tty, bool out, bool errs, int *ret_exit,
                              bool *client_gone)
{
    unsigned char hdr[8];
    uint32_t len;
    char *payload;
    int type;
    if (fd_read_full(shim_fd, hdr, 8) < 0)
        return -1;
    type = hdr[0];
    memcpy(&len, hdr + 4, 4);
    len = ntohl(len);
    if (len > (16u << 20))
        return -1;
    payload = xmalloc(len + 1);
    if (fd_read_full(shim_fd, payload, len) < 0) {
        free(payload);
        return -1;
    }
    payload[len] = '\0';
    if (type == FRAME_EXIT) {
        long long code;
        if (parse_int64(payload, &code) == 0)
            *ret_exit = (int)code;
        free(payload);
        return 1;
    }
    if (!*client_gone && ((type == FRAME_STDOUT && out) || (type == FRAME_STDERR && errs))) {
        int r = tty ? fd_write_all(client_fd, payload, len) : send_frame(client_fd, type, payload, len);
        if (r < 0)
            *client_gone = true;
    }
    free(payload);
    return 0;
}

/* Stdin on its way to the shim: written without blocking, so that output keeps flowing to the client while
 * the container is not reading its stdin (the shim holds stdin back while its own queue is full). */
struct stdin_queue {
    unsigned char buf[8 + 32768 + 8]; /* one stdin frame and a close frame */
    size_t off, len;
};

static void queue_frame(struct stdin_queue *q, int type, const void *data, uint32_t len)
{
    uint32_t be = htonl(len);
    q->buf[q->len] = (unsigned char)type;
    memset(q->buf + q->len + 1, 0, 3);
    memcpy(q->buf + q->len + 4, &be, 4);
    if (len > 0)
        memcpy(q->buf + q->len + 8, data, len);
    q->len += 8 + len;
}

/* Returns -1 when the shim is gone, 0 otherwise (the queue may keep bytes the shim did not take yet). */
static int queue_flush(struct stdin_queue *q, int shim_fd, bool wait)
{
    while (q->off < q->len) {
        ssize_t w = send(shim_fd, q->buf + q->off, q->len - q->off, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w <= 0)
            return -1;
        q->off += (size_t)w;
    }
    q->off = q->len = 0;
    return 0;
}

/* Reads one chunk of the client's stdin into the queue; returns 1 at the client's EOF, 2 at its EOF with a tty that
 * goes on, -1 when the shim is gone. As Docker's, the end of a tty client's input (it detached, or left) does not end
 * the container's input unless end_tty asks for it (CRI exec): a shell run with -it survives ctrl-p ctrl-q. Without a
 * tty the end closes the process's stdin (type 3); with end_tty the shim types the terminal's ^D (type 7). */
static int client_stdin(int client_fd, int shim_fd, bool tty, bool end_tty, struct stdin_queue *q)
{
    char buf[32768];
    ssize_t n = read(client_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0 && tty && !end_tty)
        return 2;
    if (n <= 0) {
        queue_frame(q, tty ? FRAME_END_STDIN : FRAME_CLOSE_STDIN, NULL, 0);
        return queue_flush(q, shim_fd, false) < 0 ? -1 : 1;
    }
    queue_frame(q, FRAME_STDIN, buf, (uint32_t)n);
    return queue_flush(q, shim_fd, false);
}

int runtime_attach_proxy(int client_fd, int shim_fd, bool tty, bool in, bool end_tty, bool out, bool errs,
                         int *ret_exit)
{
    struct pollfd pf[2] = {{shim_fd, POLLIN, 0}, {client_fd, POLLIN, 0}};
    struct stdin_queue q = {.len = 0};
    bool client_gone = false, client_eof = !in;
    *ret_exit = -1;
    for (;;) {
        pf[0].events = (short)(POLLIN | (q.len > 0 ? POLLOUT : 0));
        pf[1].fd = client_eof || client_gone || q.len > 0 ? -1 : client_fd;
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if ((pf[0].revents & POLLOUT) && queue_flush(&q, shim_fd, false) < 0)
            return 0;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = forward_shim_frame(shim_fd, client_fd, tty, out, errs, ret_exit, &client_gone);
            if (r != 0)
                return 0;
            if (client_gone && !in)
                return 0;
        }
        if (pf[1].fd >= 0 && pf[1].revents != 0) {
            int r = client_stdin(client_fd, shim_fd, tty, end_tty, &q);
            if (r < 0 || r == 2)
                return 0;
            if (r == 1) {
                client_eof = true;
                if (!out && !errs) {
                    queue_flush(&q, shim_fd, true);
                    return 0;
                }
            }
        }
    }
}

int runtime_attach_send_resize(int fd, int height, int width, struct isd_error **err)
{
    unsigned char sz[4];
    sz[0] = (unsigned char)(height >> 8);
    sz[1] = (unsigned char)height;
    sz[2] = (unsigned char)(width >> 8);
    sz[3] = (unsigned char)width;
    return send_frame(fd, FRAME_RESIZE, sz, 4) < 0 ? isd_error_errno(err, "send resize") : 0;
}

int runtime_attach_send_reopen_log(int fd, struct isd_error **err)
{
    return send_frame(fd, FRAME_REOPEN_LOG, NULL, 0) < 0 ? isd_error_errno(err, "send reopen-log") : 0;
}
