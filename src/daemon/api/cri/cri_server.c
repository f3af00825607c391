/* The gRPC core server of the CRI adapter: the poller thread, one thread per call, and the optional unix socket
 * of `--cri-socket`. */
#include <errno.h>
#include <fcntl.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api/cri/cri_internal.h"
#include "daemon/api/cri/cri_server.h"
#include "daemon/api/cri/stream_internal.h"

struct cri_server {
    struct daemon *d;
    grpc_server *server;
    grpc_completion_queue *cq;
    grpc_server_credentials *creds;
    pthread_t poller;
    int listen_fd;
    char *socket_path;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int in_flight;
    int shutdown_tag;
    pthread_mutex_t start_lock; /* guards started/failed: gRPC starts at the first connection */
    bool started, failed;
};

/* One incoming call, from its request to its answer. */
struct cri_call {
    struct cri_server *s;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_completion_queue *cq;
};

static void call_free(struct cri_call *c)
{
    if (c->call != NULL)
        grpc_call_unref(c->call);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    grpc_completion_queue_shutdown(c->cq);
    while (grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(c->cq);
    free(c);
}

static int request_next(struct cri_server *s)
{
    struct cri_call *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    if (grpc_server_request_call(s->server, &c->call, &c->details, &c->md, c->cq, s->cq, c) != GRPC_CALL_OK) {
        call_free(c);
        return -1;
    }
    return 0;
}

/* Runs a batch on the call and waits for it. */
static bool call_batch(struct cri_call *c, const grpc_op *ops, size_t n)
{
    if (grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK)
        return false;
    grpc_event ev = grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

/* The request message, contiguous (malloc'd; *ret_len may be 0). NULL when the client sent none. */
static void *call_read(struct cri_call *c, size_t *ret_len)
{
    grpc_byte_buffer *bb = NULL;
    grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
    op.data.recv_message.recv_message = &bb;
    if (!call_batch(c, &op, 1) || bb == NULL)
        return NULL;
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) {
        grpc_byte_buffer_destroy(bb);
        return NULL;
    }
    grpc_slice all = grpc_byte_buffer_reader_readall(&r);
    size_t len = GRPC_SLICE_LENGTH(all);
    void *data = xmalloc(len + 1);
    memcpy(data, GRPC_SLICE_START_PTR(all), len);
    grpc_slice_unref(all);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(bb);
    *ret_len = len;
    return data;
}

/* Sends the answer: the response message when resp != NULL, then the status. */
static void call_answer(struct cri_call *c, const void *resp, size_t len, grpc_status_code code, const char *msg)
{
    grpc_op ops[4] = {{.op = GRPC_OP_SEND_INITIAL_METADATA}};
    size_t n = 1;
    int cancelled = 0;
    grpc_byte_buffer *bb = NULL;
    grpc_slice details = grpc_slice_from_copied_string(msg != NULL ? msg : "");
    if (resp != NULL) {
        grpc_slice sl = grpc_slice_from_copied_buffer(resp, len);
        bb = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = bb;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n++].data.send_status_from_server.status_details = &details;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &cancelled;
    call_batch(c, ops, n);
    if (bb != NULL)
        grpc_byte_buffer_destroy(bb);
    grpc_slice_unref(details);
}

static void call_serve(struct cri_call *c)
{
    cleanup_error struct isd_error *err = NULL;
    size_t len = 0, out_len = 0;
    const char *path = (const char *)GRPC_SLICE_START_PTR(c->details.method);
    size_t path_len = GRPC_SLICE_LENGTH(c->details.method);
    const struct cri_method *m = cri_method_lookup(path, path_len);
    cleanup_free void *req = call_read(c, &len);
    if (m == NULL) {
        cleanup_free char *msg = xasprintf("unknown method `%.*s`", (int)path_len, path);
        call_answer(c, NULL, 0, GRPC_STATUS_UNIMPLEMENTED, msg);
        return;
    }
    if (req == NULL) {
        call_answer(c, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, "no request message");
        return;
    }
    cleanup_free void *out = cri_method_run(c->s->d, m, req, len, &out_len, &err);
    if (out == NULL) {
        log_error("cri %s/%s: %s", m->service, m->name, err->msg);
        call_answer(c, NULL, 0, (grpc_status_code)isd_error_code_grpc_status(err->code), err->msg);
        return;
    }
    call_answer(c, out, out_len, GRPC_STATUS_OK, NULL);
}

static void *call_thread(void *arg)
{
    struct cri_call *c = arg;
    struct cri_server *s = c->s;
    call_serve(c);
    call_free(c);
    pthread_mutex_lock(&s->lock);
    if (--s->in_flight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *poller_thread(void *arg)
{
    struct cri_server *s = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == &s->shutdown_tag) { /* only now may the queue itself shut down */
            grpc_completion_queue_shutdown(s->cq);
            continue;
        }
        struct cri_call *c = ev.tag;
        if (!ev.success) { /* the server is shutting down */
            call_free(c);
            continue;
        }
        request_next(s);
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        pthread_mutex_unlock(&s->lock);
        if (thread_start_detached(call_thread, c) != 0)
            call_thread(c);
    }
}

static bool grpc_up(struct cri_server *s);

void cri_server_add_connection(struct cri_server *s, int fd)
{
    if (!grpc_up(s)) {
        close(fd);
        return;
    }
    /* gRPC polls the fd itself: a blocking one makes calls hang until their deadline */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return;
    }
    grpc_server_add_channel_from_fd(s->server, fd, s->creds);
}

/* `--cri-socket`: accepts connections and hands them to gRPC, until the socket is shut down. */
static void *acceptor_thread(void *arg)
{
    struct cri_server *s = arg;
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            cri_server_add_connection(s, fd);
            continue;
        }
        if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE && errno != ENFILE)
            return NULL;
    }
}

static int listen_unix(const char *path, struct isd_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "socket path `%s` is too long", path);
    strcpy(addr.sun_path, path);
    cleanup_close int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "another daemon is listening on `unix://%s`", path);
    unlink(path);
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1024) < 0)
        return isd_error_errno(err, "listen on `unix://%s`", path);
    chmod(path, 0660);
    return TAKE_FD(fd);
}

static int server_listen(struct cri_server *s, const char *socket_path, struct isd_error **err)
{
    s->listen_fd = listen_unix(socket_path, err);
    if (s->listen_fd < 0)
        return -1;
    s->socket_path = xstrdup(socket_path);
    if (pthread_create(&s->acceptor, NULL, acceptor_thread, s) != 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "cri: cannot start the accept thread");
    }
    return 0;
}

/* Brings gRPC up at the first CRI connection, so a daemon nobody drives through the CRI carries none of
 * gRPC's threads and memory. Returns false when it cannot start (logged once). */
static bool grpc_up(struct cri_server *s)
{
    pthread_mutex_lock(&s->start_lock);
    if (!s->started && !s->failed) {
        grpc_init();
        s->creds = grpc_insecure_server_credentials_create();
        s->server = grpc_server_create(NULL, NULL);
        s->cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->server, s->cq, NULL);
        grpc_server_start(s->server);
        if (request_next(s) == 0 && pthread_create(&s->poller, NULL, poller_thread, s) == 0) {
            s->started = true;
        } else {
            log_error("cri: cannot start the gRPC server");
            s->failed = true;
            grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
            poller_thread(s);
            grpc_server_destroy(s->server);
            grpc_completion_queue_destroy(s->cq);
            grpc_server_credentials_release(s->creds);
        }
    }
    bool up = s->started;
    pthread_mutex_unlock(&s->start_lock);
    return up;
}

struct cri_server *cri_server_start(struct daemon *d, const char *socket_path, struct isd_error **err)
{
    struct cri_server *s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->listen_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->start_lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    if (socket_path != NULL && server_listen(s, socket_path, err) < 0) {
        cri_server_stop(s);
        return NULL;
    }
    return s;
}

void cri_server_stop(struct cri_server *s)
{
    if (s == NULL)
        return;
    stream_server_stop();
    if (s->listen_fd >= 0) {
        shutdown(s->listen_fd, SHUT_RDWR);
        pthread_join(s->acceptor, NULL);
        close(s->listen_fd);
        unlink(s->socket_path);
    }
    if (s->started) {
        grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
        grpc_server_cancel_all_calls(s->server);
        pthread_mutex_lock(&s->lock);
        while (s->in_flight > 0)
            pthread_cond_wait(&s->idle, &s->lock);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->poller, NULL);
        grpc_server_destroy(s->server);
        grpc_completion_queue_destroy(s->cq);
        grpc_server_credentials_release(s->creds);
    }
    free(s->socket_path);
    free(s);
}
