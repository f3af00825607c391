/* CRI ExecSync: an exec whose output is gathered (stdout and stderr apart, each up to a limit) until it ends or
 * its timeout passes (then it is killed). The exec itself is the ordinary one (exec.c), run in a thread of its
 * own that writes stdcopy frames into a socketpair read here. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/container/exec_store.h"
#include "daemon/service/internal.h"

#define EXEC_SYNC_KILL_WAIT_MS 10000

struct exec_sync_run {
    struct daemon *d;
    char *exec_id;
    int fd;
    int rc;
    struct isd_error *err;
    int refs; /* the reader's and the thread's: the last one frees (the thread may outlive a reader that gave up) */
};

static void run_unref(struct exec_sync_run *r)
{
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    isd_error_free(r->err);
    free(r->exec_id);
    free(r);
}

static void *exec_sync_thread(void *arg)
{
    struct exec_sync_run *r = arg;
    struct isd_error *err = NULL;
    int rc = service_exec_start(r->d, r->exec_id, r->fd, &err);
    if (rc < 0)
        r->err = err; /* read by the reader only after the end of the stream (close below) */
    close(r->fd);
    run_unref(r);
    return NULL;
}

/* Splits stdcopy frames (8-byte header: stream, 0, 0, 0, big-endian length) into out and err, each kept to max
 * bytes; in holds what is not a whole frame yet. */
static void demux(struct buf *in, struct buf *out, struct buf *err, size_t max)
{
    while (buf_size(in) >= 8) {
        const unsigned char *h = (const unsigned char *)buf_head(in);
        size_t n = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
        if (buf_size(in) < 8 + n)
            return;
        struct buf *dst = h[0] == 2 ? err : out;
        size_t room = buf_size(dst) < max ? max - buf_size(dst) : 0;
        buf_append(dst, (const char *)h + 8, n < room ? n : room);
        buf_consume(in, 8 + n);
    }
}

static void exec_kill(struct daemon *d, const char *exec_id)
{
    cleanup_json json_t *j = service_exec_inspect(d, exec_id, NULL);
    json_int_t pid = json_integer_value(json_object_get(j, "Pid"));
    if (pid > 0)
        kill((pid_t)pid, SIGKILL);
}

/* Reads the frames until the end; past deadline_ns (0: none) the exec is killed and *ret_timed_out set. */
static void gather(struct exec_sync_run *r, int fd, long long deadline_ns, struct buf *out, struct buf *err, size_t max,
                   bool *ret_timed_out)
{
    struct buf in = {0};
    char chunk[16384];
    long long kill_deadline = 0;
    *ret_timed_out = false;
    for (;;) {
        long long now = now_ns(), until = kill_deadline ? kill_deadline : deadline_ns;
        int ms = until > 0 ? (int)((until - now) / 1000000) : -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (until > 0 && ms <= 0) {
            if (kill_deadline)
                break;
            *ret_timed_out = true;
            exec_kill(r->d, r->exec_id);
            kill_deadline = now_ns() + EXEC_SYNC_KILL_WAIT_MS * 1000000LL;
            continue;
        }
        if (poll(&p, 1, ms) < 0 && errno != EINTR)
            break;
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break;
        if (n > 0) {
            buf_append(&in, chunk, (size_t)n);
            demux(&in, out, err, max);
        }
    }
    buf_free(&in);
}

void service_exec_drop(struct daemon *d, const char *exec_id)
{
    cleanup_free char *dir = exec_store_remove_finished(d->execs, exec_id);
    if (dir != NULL)
        rm_rf(dir, NULL);
}

int service_exec_sync(struct daemon *d, const char *ref, char *const *cmd, long long timeout_s, size_t max_output,
                      struct exec_sync_result *ret, struct isd_error **err)
{
    cleanup_free char *exec_id = NULL;
    cleanup_json json_t *body = json_pack("{s:o, s:b, s:b}", "Cmd", json_array(), "AttachStdout", 1, "AttachStderr", 1);
    for (size_t i = 0; cmd != NULL && cmd[i] != NULL; i++)
        json_array_append_new(json_object_get(body, "Cmd"), json_string(cmd[i]));
    if (service_exec_create(d, ref, body, &exec_id, err) < 0)
        return -1;
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return isd_error_errno(err, "socketpair");
    struct exec_sync_run *r = xcalloc(1, sizeof(*r));
    *r = (struct exec_sync_run){.d = d, .exec_id = xstrdup(exec_id), .fd = sp[1], .refs = 2};
    if (thread_start_detached(exec_sync_thread, r) != 0) {
        close(sp[0]), close(sp[1]);
        free(r->exec_id), free(r);
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "exec: cannot start a thread");
    }
    struct buf out = {0}, errb = {0};
    bool timed_out;
    gather(r, sp[0], timeout_s > 0 ? now_ns() + timeout_s * 1000000000LL : 0, &out, &errb, max_output, &timed_out);
    close(sp[0]);
    int rc = 0;
    if (timed_out)
        rc = isd_error_set(err, ISD_ERR_TIMEOUT, 0, "command timed out after %llds", timeout_s);
    else if (r->err != NULL)
        rc = isd_error_set(err, r->err->code, r->err->errnum, "%s", r->err->msg);
    run_unref(r);
    cleanup_json json_t *info = rc == 0 ? service_exec_inspect(d, exec_id, err) : NULL;
    if (rc == 0 && info == NULL)
        rc = -1;
    /* a probe runs every few seconds for the life of a pod: keep no record of it */
    service_exec_drop(d, exec_id);
    if (rc == 0) {
        ret->exit_code = (int)json_integer_value(json_object_get(info, "ExitCode"));
        ret->out_len = buf_size(&out);
        ret->err_len = buf_size(&errb);
        ret->out = buf_steal(&out);
        ret->err = buf_steal(&errb);
    }
    buf_free(&out);
    buf_free(&errb);
    return rc;
}
