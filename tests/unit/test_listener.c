/* The listener's peek-and-dispatch: a fake gRPC transport claims connections opening with the HTTP/2 preface,
 * everything else goes to the default (REST) transport; the bytes stay unread for the transport. */
#include "harness.h"

#include <limits.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/api/listener/listener.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct fake_transport {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fds[16];
    int n;
};

static void fake_take(int fd, const struct sockaddr *peer, socklen_t peer_len, void *ctx)
{
    struct fake_transport *t = ctx;
    (void)peer;
    (void)peer_len;
    pthread_mutex_lock(&t->lock);
    t->fds[t->n++] = fd;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

/* The next connection the transport got (-1 after 10 s). */
static int next_conn(struct fake_transport *t, int *seen)
{
    struct timespec ts;
    int fd = -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&t->lock);
    while (t->n <= *seen && pthread_cond_timedwait(&t->cond, &t->lock, &ts) == 0)
        ;
    if (t->n > *seen)
        fd = t->fds[(*seen)++];
    pthread_mutex_unlock(&t->lock);
    return fd;
}

static int dial(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static struct fake_transport rest = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0};
static struct fake_transport grpc = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0};

static struct listener *start(const char *path, bool with_grpc)
{
    cleanup_free char *host = xasprintf("unix://%s", path);
    char *hosts[] = {host, NULL};
    struct listener *l = listener_new();
    struct isd_error *err = NULL;
    if ((with_grpc && listener_add_transport(l, listener_match_http2_preface, fake_take, &grpc, &err) < 0) ||
        listener_add_transport(l, NULL, fake_take, &rest, &err) < 0 || listener_start(l, hosts, NULL, &err) < 0) {
        fprintf(stderr, "listener: %s\n", err ? err->msg : "?");
        listener_free(l);
        return NULL;
    }
    return l;
}

/* Reads exactly n bytes (what the client sent must still be there for the transport). */
static bool read_is(int fd, const char *want)
{
    char buf[128];
    size_t n = strlen(want), got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return memcmp(buf, want, n) == 0;
}

TEST(preface_goes_to_grpc_the_rest_to_rest)
{
    char cwd[PATH_MAX];
    cleanup_free char *path = NULL;
    struct listener *l;
    int seen_rest = rest.n, seen_grpc = grpc.n;
    int c1, c2, c3, c4, s;
    struct stat st;
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    path = xasprintf("%s/sock/isulad.sock", cwd);
    l = start(path, true);
    ASSERT_TRUE(l != NULL);
    ASSERT_INT_EQ(stat(path, &st), 0);
    ASSERT_INT_EQ(st.st_mode & 0777, 0660);
    /* HTTP/2 preface in one write */
    c1 = dial(path);
    ASSERT_TRUE(write(c1, PREFACE, strlen(PREFACE)) == (ssize_t)strlen(PREFACE));
    s = next_conn(&grpc, &seen_grpc);
    ASSERT_TRUE(s >= 0);
    ASSERT_TRUE(read_is(s, PREFACE));
    close(s);
    /* HTTP/1.1 */
    c2 = dial(path);
    ASSERT_TRUE(write(c2, "GET /_ping HTTP/1.1\r\n", 21) == 21);
    s = next_conn(&rest, &seen_rest);
    ASSERT_TRUE(s >= 0);
    ASSERT_TRUE(read_is(s, "GET /_ping HTTP/1.1\r\n"));
    close(s);
    /* the preface split in two writes: no verdict on the first part alone */
    c3 = dial(path);
    ASSERT_TRUE(write(c3, "PRI * HT", 8) == 8);
    usleep(50000);
    ASSERT_INT_EQ(rest.n, seen_rest);
    ASSERT_INT_EQ(grpc.n, seen_grpc);
    ASSERT_TRUE(write(c3, PREFACE + 8, strlen(PREFACE) - 8) == (ssize_t)(strlen(PREFACE) - 8));
    s = next_conn(&grpc, &seen_grpc);
    ASSERT_TRUE(s >= 0);
    ASSERT_TRUE(read_is(s, PREFACE));
    close(s);
    /* a client that closes without a byte goes to the default transport */
    c4 = dial(path);
    close(c4);
    s = next_conn(&rest, &seen_rest);
    ASSERT_TRUE(s >= 0);
    close(s);
    close(c1);
    close(c2);
    close(c3);
    listener_free(l);
    ASSERT_TRUE(access(path, F_OK) < 0);
}

TEST(without_a_matcher_connections_are_handed_over_before_any_byte)
{
    char cwd[PATH_MAX];
    cleanup_free char *path = NULL;
    struct listener *l;
    int seen_rest = rest.n, c, s;
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    path = xasprintf("%s/isulad.sock", cwd);
    l = start(path, false);
    ASSERT_TRUE(l != NULL);
    c = dial(path);
    ASSERT_TRUE(c >= 0);
    s = next_conn(&rest, &seen_rest);
    ASSERT_TRUE(s >= 0);
    close(s);
    close(c);
    listener_free(l);
}

TEST(http2_preface_matcher)
{
    ASSERT_INT_EQ(listener_match_http2_preface((const unsigned char *)PREFACE, strlen(PREFACE), NULL), LISTENER_YES);
    ASSERT_INT_EQ(listener_match_http2_preface((const unsigned char *)"PRI * HTTP/2", 12, NULL), LISTENER_MORE);
    ASSERT_INT_EQ(listener_match_http2_preface((const unsigned char *)"POST /v1.41", 11, NULL), LISTENER_NO);
    ASSERT_INT_EQ(listener_match_http2_preface((const unsigned char *)"", 0, NULL), LISTENER_MORE);
}

TEST(only_one_default_transport)
{
    struct listener *l = listener_new();
    struct isd_error *err = NULL;
    ASSERT_INT_EQ(listener_add_transport(l, NULL, fake_take, &rest, &err), 0);
    ASSERT_INT_EQ(listener_add_transport(l, NULL, fake_take, &rest, &err), -1);
    isd_error_free(err);
    listener_free(l);
}

RUN_TESTS()
