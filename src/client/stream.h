/*
 * Copying between a hijacked API connection (attach, exec start) or a streamed body (logs) and the
 * local terminal: stdcopy demultiplexing without a tty, raw bytes with one, stdin forwarding with a
 * half-close at EOF, terminal raw mode and SIGWINCH-driven resizes. Process-wide state: the saved
 * termios and the SIGWINCH flag (one stream at a time per process).
 */
#ifndef ISD_CLIENT_STREAM_H
#define ISD_CLIENT_STREAM_H

#include <stdbool.h>

#include "client/http.h"
#include "common/error.h"

struct stream_opts {
    int in_fd;  /* -1: no stdin forwarding */
    int out_fd; /* usually 1 */
    int err_fd; /* usually 2 */
    bool tty;   /* raw bytes instead of stdcopy frames */
    void (*on_resize)(void *ctx);
    void (*on_signal)(int sig, void *ctx); /* signals caught by stream_watch_signals() */
    void *ctx;
};

/* Pumps until the remote side ends the stream. Returns 0, or -1 on a local/protocol error. */
int stream_pump(struct http_conn *c, const struct stream_opts *o, struct isd_error **err);
/* Copies a (non-hijacked) response body to out/err, demultiplexing unless tty. */
int stream_copy_body(struct http_conn *c, struct http_response *resp, bool tty, int out_fd, int err_fd,
                     struct isd_error **err);

/* Detach keys for the tty streams of this process (docker's syntax: "ctrl-p,ctrl-q", "a,ctrl-z"; default
 * ctrl-p,ctrl-q). When they are typed, stream_pump returns 0 and stream_detached() is true. */
int stream_set_detach_keys(const char *spec, struct isd_error **err);
bool stream_detached(void);

/* Puts fd (a terminal) into raw mode; restored by term_restore() (also registered with atexit). */
int term_make_raw(int fd);
void term_restore(void);
/* Terminal size of fd; -1 when not a terminal. */
int term_size(int fd, int *ret_rows, int *ret_cols);
/* Installs the SIGWINCH flag handler. */
void stream_watch_resize(void);
/* Catches SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 so that stream_pump hands them to
 * on_signal (docker's --sig-proxy) instead of dying. */
void stream_watch_signals(void);

#endif
