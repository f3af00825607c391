/*
 * The attach machinery of run, start -a and attach: the hijacked attach request, a wait request sent
 * before start and read after the stream ends, and the pump with raw mode and resizes.
 */
#include "cmd/isula/cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/stream.h"
#include "common/json.h"
#include "common/util.h"

int attach_open(const char *id, bool with_stdin, struct http_conn *c, struct isd_error **err)
{
    cleanup_free char *base = cmd_path("containers", id, "attach");
    cleanup_free char *path = xasprintf("%s?stream=1&stdin=%d&stdout=1&stderr=1", base, with_stdin ? 1 : 0);
    struct http_request req = {.method = "POST", .path = path, .body_fd = -1, .upgrade = true};
    struct http_response resp;
    if (client_request(cmd_host(), &req, c, &resp, err) < 0)
        return -1;
    http_response_free(&resp);
    if (!resp.upgraded && resp.status != 200) {
        http_conn_close(c);
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "attach: unexpected status %d", resp.status);
    }
    return 0;
}

int wait_begin(const char *id, const char *condition, struct wait_conn *w, struct isd_error **err)
{
    cleanup_free char *base = cmd_path("containers", id, "wait");
    cleanup_free char *path = condition != NULL ? xasprintf(CLIENT_API_PREFIX "%s?condition=%s", base, condition)
                                                : xasprintf(CLIENT_API_PREFIX "%s", base);
    struct http_request req = {.method = "POST", .path = path, .body_fd = -1};
    memset(w, 0, sizeof(*w));
    if (http_conn_open(&w->c, cmd_host(), err) < 0)
        return -1;
    if (http_send_request(&w->c, &req, err) < 0 || http_read_response_head(&w->c, &w->resp, err) < 0) {
        http_conn_close(&w->c);
        return -1;
    }
    if (w->resp.status >= 400) {
        cleanup_free char *body = http_read_body_all(&w->c, &w->resp, 1 << 20, NULL, err);
        if (body != NULL)
            client_error_from_body(w->resp.status, body, err);
        wait_close(w);
        return -1;
    }
    return 0;
}

void wait_close(struct wait_conn *w)
{
    http_conn_close(&w->c);
    http_response_free(&w->resp);
}

int wait_finish(struct wait_conn *w, int *ret_code, struct isd_error **err)
{
    cleanup_free char *body = http_read_body_all(&w->c, &w->resp, 1 << 20, NULL, err);
    cleanup_json json_t *j = NULL;
    const char *emsg;
    wait_close(w);
    if (body == NULL)
        return -1;
    j = json_parse(body, strlen(body), NULL);
    emsg = json_string_value(json_object_get(json_object_get(j, "Error"), "Message"));
    if (emsg != NULL && emsg[0] != '\0')
        return client_error_daemon(err, ISD_ERR_INTERNAL, emsg);
    *ret_code = (int)json_get_int(j, "StatusCode", 0);
    return 0;
}

struct resize_ctx {
    const char *kind, *id;
};

static void on_resize(void *ctx)
{
    struct resize_ctx *r = ctx;
    cmd_resize(r->kind, r->id);
}

/* --sig-proxy: a signal to the CLI is sent to the container (containers only, not exec). */
static void on_signal(int sig, void *ctx)
{
    struct resize_ctx *r = ctx;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *base = cmd_path("containers", r->id, "kill");
    cleanup_free char *path = xasprintf("%s?signal=%d", base, sig);
    client_call(cmd_host(), "POST", path, NULL, NULL, &err);
}

/* With a tty, the local terminal goes raw as docker's does, with -i or without (else each line of the
 * container's pty would arrive as \r\r\n): stdin's terminal, or stdout's when stdin is not one. */
void attach_term_raw(void)
{
    if (term_make_raw(STDIN_FILENO) < 0)
        term_make_raw(STDOUT_FILENO);
}

int attach_pump(struct http_conn *c, const char *kind, const char *id, bool tty, bool with_stdin,
                struct isd_error **err)
{
    struct resize_ctx rc = {kind, id};
    struct stream_opts o = {.in_fd = with_stdin ? STDIN_FILENO : -1,
                            .out_fd = STDOUT_FILENO,
                            .err_fd = STDERR_FILENO,
                            .tty = tty,
                            .ctx = &rc};
    int r;
    if (!tty && streq(kind, "containers")) {
        o.on_signal = on_signal;
        stream_watch_signals();
    }
    if (tty) {
        o.on_resize = on_resize;
        stream_watch_resize();
        cmd_resize(kind, id);
        attach_term_raw();
    }
    r = stream_pump(c, &o, err);
    term_restore();
    return r;
}

int attach_start_and_wait(struct http_conn *att, struct wait_conn *wc, const char *id, bool start, bool tty,
                          bool with_stdin, bool entrypoint_given, bool *ret_waited)
{
    struct isd_error *err = NULL;
    int code = 0;
    if (!tty)
        stream_watch_signals(); /* before the start: a signal in between is proxied, not fatal to isula */
    else
        attach_term_raw(); /* before the start: the first output arrives after it */
    if (start) {
        cleanup_free char *path = cmd_path("containers", id, "start");
        if (client_call(cmd_host(), "POST", path, NULL, NULL, &err) < 0) {
            term_restore();
            http_conn_close(att);
            wait_close(wc);
            cmd_print_error(err);
            return cmd_exit_code_for(err, entrypoint_given);
        }
    }
    if (attach_pump(att, "containers", id, tty, with_stdin, &err) < 0) {
        cmd_print_error(err);
        isd_error_free(err);
        err = NULL;
    }
    http_conn_close(att);
    if (stream_detached()) {
        wait_close(wc);
        return 0;
    }
    if (wait_finish(wc, &code, &err) < 0) {
        cmd_print_error(err);
        return EXIT_DAEMON;
    }
    if (ret_waited != NULL)
        *ret_waited = true;
    return code;
}
