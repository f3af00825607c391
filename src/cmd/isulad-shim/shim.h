/*
 * isulad-shim: the per-container (and per-exec) monitor. It runs `runtime create|exec`, holds the
 * container's stdio (pipes or the pty master), writes the json-file log, serves the attach socket,
 * reaps the container and records its exit status. See docs/design/shim.md for the contract.
 *
 * The shim links only libc (and common/base/, libc only as well) and is single-threaded: all state
 * lives in one `struct shim` owned by main(); no function here is thread-safe and none needs to be.
 */
#ifndef ISD_SHIM_H
#define ISD_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/base/buf.h"
#include "common/base/io.h"
#include "common/base/str.h"
#include "common/base/timestamp.h"
#include "common/base/xalloc.h"

/* Frame types of the attach protocol (Docker stdcopy framing plus our control frames). */
enum shim_frame_type {
    SHIM_FRAME_STDIN = 0,
    SHIM_FRAME_STDOUT = 1,
    SHIM_FRAME_STDERR = 2,
    SHIM_FRAME_CLOSE_STDIN = 3,
    SHIM_FRAME_RESIZE = 4,
    SHIM_FRAME_EXIT = 5,
    SHIM_FRAME_REOPEN_LOG = 6,
    SHIM_FRAME_END_STDIN = 7,
};

#define SHIM_FRAME_HEADER 8
/* Back-pressure: while any attach client has this much output queued, the shim stops reading the container's
 * output, so the container's writes block until the slowest reader catches up (as Docker does). */
#define SHIM_CLIENT_OUT_HIGH (256u << 10)
/* After the process exited, a client that takes no byte of its queued output for this long is dropped, so a
 * stalled reader cannot keep the exit from being recorded for ever (default of --client-stall-ms). */
#define SHIM_CLIENT_STALL_MS 30000
#define SHIM_STDIN_MAX (1u << 20) /* stop reading clients while this much stdin is pending */
#define SHIM_ATTACH_FDS_MAX 16

/* ---- util.c: JSON strings, the clock (allocation, the byte buffer, files and time stamps come from
 * common/base/) ---- */

/* Appends s as a quoted JSON string; invalid UTF-8 bytes become U+FFFD. */
void shim_json_string(struct buf *b, const char *s, size_t n);
/* CLOCK_MONOTONIC in milliseconds. */
long long shim_now_ms(void);
/* Length of an incomplete UTF-8 sequence at the end of data (0..3). */
size_t shim_utf8_incomplete_tail(const char *data, size_t n);

/* ---- args.c ---- */

struct shim_args {
    char *id;
    char *bundle;
    char *runtime;
    char **runtime_args;
    size_t n_runtime_args;
    char *runtime_root;
    char *state_dir;
    char *exec_process;
    char *log_file;
    long long log_max_size;
    int log_max_file;
    bool log_cri; /* --log-format cri: the CRI log format (kubelet's) instead of json-file */
    int sync_fd;
    bool terminal;
    bool open_stdin;
    int attach_fds[SHIM_ATTACH_FDS_MAX]; /* attach clients connected from the start (socketpair ends) */
    size_t n_attach_fds;
    bool start; /* `run --detach` instead of `create`: one runtime call when nothing happens in between */
    long long client_stall_ms; /* after the exit, drop a client that took nothing for this long */
    int umask; /* the runtime's umask (runc exec passes its own to the process it starts); -1: the shim's */
};

/* Returns 0, or -1 with a one-line reason in ret_msg (static storage). Paths become absolute. */
int shim_args_parse(struct shim_args *a, int argc, char **argv, const char **ret_msg);

/* ---- logfile.c: json-file (or CRI format) writer with rotation ---- */

struct shim_log {
    char *path;
    int fd;
    long long size;
    long long max_size;
    int max_file;
    bool cri; /* CRI format: "<RFC3339Nano> <stream> <F|P> <line>\n" (set after open) */
    /* per stream (index 1 stdout, 2 stderr): the line whose newline has not come yet, held back up to
     * SHIM_LOG_LINE_HOLD bytes so that a line read in two pieces is one entry, as docker's json-file has it */
    struct buf hold[3];
};

int shim_log_open(struct shim_log *l, const char *path, long long max_size, int max_file);
/* stream: SHIM_FRAME_STDOUT or SHIM_FRAME_STDERR. Errors are ignored (the container must go on). */
void shim_log_write(struct shim_log *l, int stream, const char *data, size_t n);
void shim_log_close(struct shim_log *l);
/* Opens the log path again (after a rotation by someone else, e.g. kubelet), creating it. */
void shim_log_reopen(struct shim_log *l);

/* ---- the shim state ---- */

struct shim_client {
    int fd;
    struct buf out;
    uint8_t hdr[SHIM_FRAME_HEADER];
    size_t hdr_len;
    uint32_t remain; /* payload bytes still to read of the current frame */
    uint8_t type;
    uint8_t ctl[4]; /* resize payload */
    size_t ctl_len;
    long long progress_ms; /* last time its queue was empty or it took bytes of it */
    bool dead;
};

struct shim {
    struct shim_args args;
    char *attach_path;
    char *console_path;
    char *pid_path;
    char *exit_path;
    char *runtime_log_path;
    int sync_fd;
    int sig_fd;
    int attach_fd;
    struct shim_client **clients;
    size_t n_clients;
    int out_fd; /* container stdout read end, or the pty master */
    int err_fd; /* container stderr read end (no tty) */
    int in_fd;  /* container stdin write end (or a dup of the pty master), -1 when none */
    int console_fd;
    struct buf in_buf;
    bool in_close_pending;
    bool in_ended; /* a tty's input was ended (type 7): no more stdin is taken */
    bool in_sent;  /* some stdin was queued for the pty */
    char in_last;  /* the last byte of it: at the start of a line or not */
    bool has_log;
    struct shim_log log;
    pid_t init_pid;
    bool exited;
    int exit_code;
};

/* ---- attach.c ---- */

int shim_attach_listen(struct shim *s);
/* Accepts every pending connection; returns how many were accepted. */
int shim_attach_accept(struct shim *s);
/* Takes a connected stream socket (non-blocking, close-on-exec) as a client. */
void shim_attach_adopt(struct shim *s, int fd);
void shim_attach_broadcast(struct shim *s, int type, const char *data, size_t n);
/* True while a live client has SHIM_CLIENT_OUT_HIGH or more queued: the container's output waits. */
bool shim_attach_blocked(const struct shim *s);
/* Marks dead the clients with queued output that took nothing for --client-stall-ms. */
void shim_attach_drop_stalled(struct shim *s, long long now);
/* Reads frames from client i; on EOF or error marks it dead. */
void shim_attach_client_read(struct shim *s, struct shim_client *c);
void shim_attach_client_flush(struct shim_client *c);
void shim_attach_reap_dead(struct shim *s);
void shim_attach_finish(struct shim *s, int exit_code);

/* ---- io.c: container stdio ---- */

void shim_stdin_data(struct shim *s, const char *data, size_t n);
void shim_stdin_close(struct shim *s);
/* The client's input ended (frame type 7): without a tty, closes stdin as type 3 does; with one, queues the
 * terminal's VEOF (twice in canonical mode when a line is begun), what a user typing ^D sends. */
void shim_stdin_end(struct shim *s);
void shim_stdin_flush(struct shim *s);
void shim_resize(struct shim *s, unsigned rows, unsigned cols);
/* Reads what is available on fd; returns 0, or -1 at EOF/EIO (caller closes). */
int shim_output_read(struct shim *s, int fd, int stream);

/* ---- runtime.c ---- */

/* Runs the runtime (create or exec); on success sets s->init_pid and the stdio fds. */
int shim_runtime_run(struct shim *s, char **ret_msg);

/* ---- loop.c ---- */

/* Serves until the init process exits and its output is drained; returns its exit code. */
int shim_loop_run(struct shim *s);
void shim_reap_children(struct shim *s);

#endif
