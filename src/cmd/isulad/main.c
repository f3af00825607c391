/* isulad: parse the configuration, bring the modules up, serve, and shut down on SIGTERM/SIGINT.
 * Containers keep running across a stop of the daemon (their shims hold them). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api/listener/listener.h"
#include "daemon/api/cri_loader/cri_loader.h"
#include "daemon/api/rest/metrics.h"
#include "daemon/api/rest/server.h"
#include "daemon/config/config.h"
#include "daemon/config/pidfile.h"
#include "daemon/image/image_store.h"
#include "daemon/service/service.h"

static int fail(const char *what, struct isd_error *err)
{
    fprintf(stderr, "isulad: %s: %s\n", what, err ? err->msg : "failed");
    log_error("%s: %s", what, err ? err->msg : "failed");
    isd_error_free(err);
    return 1;
}

/* The listener's gRPC transport: connections opening with the HTTP/2 preface go to the CRI server (loaded at the
 * first of them). */
static void cri_take_connection(int fd, const struct sockaddr *peer, socklen_t peer_len, void *ctx)
{
    cri_loader_add_connection(ctx, fd);
}

static int wait_for_stop_signal(void)
{
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

int main(int argc, char **argv)
{
    struct isd_error *err = NULL;
    struct isd_config *cfg;
    struct daemon d;
    struct rest_server *srv;
    struct listener *lis;
    struct cri_loader *cri;
    sigset_t set;
    bool exit_now = false;
    int pid_fd = -1;

    cfg = isd_config_load(argc, argv, &exit_now, &err);
    if (cfg == NULL)
        return exit_now && err == NULL ? 0 : fail("invalid configuration", err);
    /* Signals are taken synchronously by main; every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    umask(0022);
    if (streq(cfg->log_driver, "file") && cfg->log_dir != NULL && mkdir_p(cfg->log_dir, 0700, &err) < 0)
        return fail("log directory", err);
    if (isd_log_init(cfg->log_driver, cfg->log_path, cfg->log_level, cfg->log_file_mode, cfg->log_max_size,
                     cfg->log_max_file) < 0) {
        fprintf(stderr, "isulad: cannot open log `%s`\n", cfg->log_path ? cfg->log_path : "");
        return 1;
    }
    if (pidfile_acquire(cfg->pidfile, &pid_fd, &err) < 0)
        return fail("pidfile", err);
    if (daemon_init(&d, cfg, &err) < 0)
        return fail("init", err);
    if (image_store_ensure_builtin(d.images, "/bin/busybox", &err) < 0) {
        log_warn("built-in busybox image: %s", err->msg);
        isd_error_free(err);
        err = NULL;
    }
    if (daemon_restore(&d, &err) < 0)
        return fail("restore containers", err);
    /* Start-up work (building the built-in image, reloading containers) leaves freed heap behind: give it
     * back before serving, so an idle daemon holds only what it uses. */
    malloc_trim(0);
    /* One listener owns the sockets; REST is its default transport, gRPC (the CRI) is chosen by the HTTP/2
     * preface. --cri-socket adds a socket serving only the CRI. */
    srv = rest_server_start(&d, &err);
    cri = srv != NULL ? cri_loader_new(&d, cfg->cri_socket, &err) : NULL;
    lis = listener_new();
    if (srv != NULL)
        rest_server_set_peer_name_fn(srv, listener_tls_peer_name);
    struct listener_tls_config tls = {cfg->tls_ca, cfg->tls_cert, cfg->tls_key, cfg->tls_verify};
    if (srv == NULL || cri == NULL || listener_add_transport(lis, NULL, rest_server_take_connection, srv, &err) < 0 ||
        listener_add_transport(lis, listener_match_http2_preface, cri_take_connection, cri, &err) < 0 ||
        (cfg->tls && listener_set_tls(lis, &tls, &err) < 0) || listener_start(lis, cfg->hosts, cfg->group, &err) < 0)
        return fail("listen", err);
    if (cfg->metrics_addr != NULL && rest_metrics_start(&d, cfg->metrics_addr, &err) < 0)
        return fail("metrics", err);
    log_info("isulad %s serving", ISD_VERSION);
    int sig = wait_for_stop_signal();
    log_info("received signal %d, shutting down; containers keep running", sig);
    listener_free(lis);
    cri_loader_free(cri);
    rest_server_stop(srv);
    daemon_shutdown(&d);
    pidfile_release(cfg->pidfile, pid_fd);
    isd_config_free(cfg);
    return 0;
}
