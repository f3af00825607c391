/* Unit tests of the client library: flags, templates, HTTP framing, stdcopy, ps formatting, and an
 * end-to-end exchange with a fake server on a unix socket (a test double only). */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "client/args.h"
#include "client/client.h"
#include "client/format.h"
#include "client/http.h"
#include "client/stdcopy.h"
#include "client/stream.h"
#include "client/template.h"
#include "common/json.h"
#include "common/util.h"

struct flags {
    bool d, i, t, rm;
    char *user, *name;
    char **env;
    long long time;
};

static const struct cli_option *flag_table(struct flags *f)
{
    static struct cli_option o[8];
    struct cli_option v[] = {{"detach", 'd', CLI_OPT_BOOL, &f->d, ""},    {"interactive", 'i', CLI_OPT_BOOL, &f->i, ""},
                             {"tty", 't', CLI_OPT_BOOL, &f->t, ""},       {"rm", 0, CLI_OPT_BOOL, &f->rm, ""},
                             {"user", 'u', CLI_OPT_STRING, &f->user, ""}, {"name", 0, CLI_OPT_STRING, &f->name, ""},
                             {"env", 'e', CLI_OPT_LIST, &f->env, ""},     {NULL}};
    memcpy(o, v, sizeof(v));
    return o;
}

static int parse(struct flags *f, char **pos_out0, int stop, char *const *argv)
{
    struct isd_error *err = NULL;
    char **pos = NULL;
    int argc = (int)strv_len(argv), rc;
    memset(f, 0, sizeof(*f));
    rc = cli_parse_args(flag_table(f), argc, argv, stop, &pos, &err);
    if (rc == 0 && pos_out0 != NULL)
        *pos_out0 = pos[0] != NULL ? xstrdup(pos[0]) : NULL;
    if (rc < 0) {
        free(f->user);
        free(f->name);
        strv_free(f->env);
        f->user = f->name = NULL;
        f->env = NULL;
    }
    strv_free(pos);
    isd_error_free(err);
    return rc;
}

TEST(flags_clusters_and_values)
{
    struct flags f;
    char *p0 = NULL;
    ASSERT_INT_EQ(parse(&f, &p0, 1, (char *[]){"-dit", "busybox", "-d", NULL}), 0);
    ASSERT_TRUE(f.d && f.i && f.t);
    ASSERT_STR_EQ(p0, "busybox");
    free(p0);
    ASSERT_INT_EQ(parse(&f, NULL, 1, (char *[]){"-du=root", "busybox", NULL}), 0);
    ASSERT_TRUE(f.d);
    ASSERT_STR_EQ(f.user, "root");
    free(f.user);
    ASSERT_INT_EQ(parse(&f, &p0, 1, (char *[]){"-ud", "root", "busybox", NULL}), 0);
    ASSERT_TRUE(f.d);
    ASSERT_STR_EQ(f.user, "root");
    ASSERT_STR_EQ(p0, "busybox");
    free(f.user);
    free(p0);
    ASSERT_INT_EQ(parse(&f, NULL, 1, (char *[]){"--user=root", "--name", "n1", "-e=A=1", "-e", "B=2", "x", NULL}), 0);
    ASSERT_STR_EQ(f.user, "root");
    ASSERT_STR_EQ(f.name, "n1");
    ASSERT_INT_EQ(strv_len(f.env), 2);
    ASSERT_STR_EQ(f.env[0], "A=1");
    ASSERT_STR_EQ(f.env[1], "B=2");
    free(f.user);
    free(f.name);
    strv_free(f.env);
}

TEST(flags_errors_and_stop)
{
    struct flags f;
    char *p0 = NULL;
    struct isd_error *err = NULL;
    char **pos = NULL;
    ASSERT_INT_EQ(parse(&f, NULL, 1, (char *[]){"-du:root", "busybox", NULL}), -1);
    ASSERT_INT_EQ(parse(&f, NULL, 1, (char *[]){"--bogus", "busybox", NULL}), -1);
    ASSERT_INT_EQ(parse(&f, NULL, 1, (char *[]){"--name", NULL}), -1);
    ASSERT_INT_EQ(parse(&f, NULL, 0, (char *[]){"--rm=false", "a", "--rm", NULL}), 0);
    ASSERT_TRUE(f.rm);
    ASSERT_INT_EQ(parse(&f, NULL, 0, (char *[]){"--rm=maybe", NULL}), -1);
    /* stop_after = 1: words after the image are the command, even if they look like flags */
    ASSERT_INT_EQ(cli_parse_args(flag_table(&f), 4, (char *[]){"-i", "img", "ls", "-l", NULL}, 1, &pos, &err), 0);
    ASSERT_INT_EQ(strv_len(pos), 3);
    ASSERT_STR_EQ(pos[2], "-l");
    strv_free(pos);
    /* exec style: flags after the container are still parsed */
    ASSERT_INT_EQ(cli_parse_args(flag_table(&f), 4, (char *[]){"c1", "-it", "ls", "-t", NULL}, 2, &pos, &err), 0);
    ASSERT_TRUE(f.i && f.t);
    ASSERT_INT_EQ(strv_len(pos), 3);
    strv_free(pos);
    ASSERT_INT_EQ(parse(&f, &p0, 0, (char *[]){"--", "-d", NULL}), 0);
    ASSERT_TRUE(!f.d);
    ASSERT_STR_EQ(p0, "-d");
    free(p0);
    ASSERT_INT_EQ(cli_parse_args(flag_table(&f), 1, (char *[]){"-x", NULL}, 0, &pos, &err), -1);
    ASSERT_STR_EQ(err->msg, "unknown shorthand flag: 'x' in -x");
    isd_error_free(err);
}

static char *render(const char *tmpl, const char *json)
{
    struct isd_error *err = NULL;
    json_t *j = json_loads(json, 0, NULL);
    char *out = template_render(tmpl, j, &err);
    json_decref(j);
    if (out == NULL) {
        out = xasprintf("ERR:%s", err->msg);
        isd_error_free(err);
    }
    return out;
}

#define ASSERT_RENDER(tmpl, json, want)                                                                                \
    do {                                                                                                               \
        cleanup_free char *got_ = render(tmpl, json);                                                                  \
        ASSERT_STR_EQ(got_, want);                                                                                     \
    } while (0)

TEST(template_fields_and_functions)
{
    const char *c = "{\"Name\":\"/web\",\"State\":{\"Pid\":42,\"Running\":true},"
                    "\"Config\":{\"Labels\":{\"a.b\":\"x y\"},\"Env\":[\"A=1\",\"B=2\"],\"Tty\":false}}";
    ASSERT_RENDER("{{.State.Pid}}", c, "42");
    ASSERT_RENDER("{{.Name}}", c, "/web");
    ASSERT_RENDER("pid={{ .State.Pid }} run={{.State.Running}}", c, "pid=42 run=true");
    ASSERT_RENDER("{{json .Config.Labels}}", c, "{\"a.b\":\"x y\"}");
    ASSERT_RENDER("{{index .Config.Labels \"a.b\"}}", c, "x y");
    ASSERT_RENDER("{{index .Config.Env 1}}", c, "B=2");
    ASSERT_RENDER("{{join .Config.Env \",\"}}", c, "A=1,B=2");
    ASSERT_RENDER("{{.Config.Env}}", c, "[A=1 B=2]");
    ASSERT_RENDER("{{.state.pid}}", c, "42");
    ASSERT_RENDER("{{.Missing}}", c, "<no value>");
    ASSERT_RENDER("{{.Config.Env | json}}", c, "[\"A=1\",\"B=2\"]");
    ASSERT_RENDER("{{upper .Name}} {{len .Config.Env}}", c, "/WEB 2");
    ASSERT_RENDER("{{range .Config.Env}}[{{.}}]{{end}}", c, "[A=1][B=2]");
    ASSERT_RENDER("{{if .State.Running}}up{{else}}down{{end}}", c, "up");
    ASSERT_RENDER("{{if .Config.Tty}}tty{{else}}notty{{end}}", c, "notty");
    ASSERT_RENDER("{{if eq .State.Pid 42}}yes{{end}}", c, "yes");
    ASSERT_RENDER("a {{- .Name -}} b", c, "a/webb");
    ASSERT_RENDER("{{json .}}", "[1,2]", "[1,2]");
    ASSERT_RENDER("{{.State", c, "ERR:template: unclosed action");
    ASSERT_RENDER("{{nosuch .Name}}", c, "ERR:template: function \"nosuch\" not defined");
    ASSERT_RENDER("{{if .Name}}x", c, "ERR:template: unexpected EOF, missing {{end}}");
}

TEST(template_variables_and_printing)
{
    const char *c = "{\"Name\":\"web\",\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Env\":[\"X=1\",\"Y=2\"],\"Pid\":42}";
    ASSERT_RENDER("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", c, "a=1;b=2;");
    ASSERT_RENDER("{{range $i, $e := .Env}}{{$i}}:{{$e}} {{end}}", c, "0:X=1 1:Y=2 ");
    ASSERT_RENDER("{{range $e := .Env}}{{$e}}/{{$.Name}} {{end}}", c, "X=1/web Y=2/web ");
    ASSERT_RENDER("{{range .Labels}}{{.}}{{end}}", c, "12");
    ASSERT_RENDER("{{println .Name .Pid}}", c, "web 42\n");
    ASSERT_RENDER("{{println}}", c, "\n");
    ASSERT_RENDER("{{print .Name .Pid}}|{{print .Pid .Pid}}", c, "web42|42 42");
    ASSERT_RENDER("{{printf \"%-5s|%3d|%v|%q|%%\" .Name .Pid .Env .Name}}", c, "web  | 42|[X=1 Y=2]|\"web\"|%");
    ASSERT_RENDER("{{printf \"%s %s\" .Name}}", c, "web %!s(MISSING)");
    ASSERT_RENDER("{{$nosuch}}", c, "ERR:template: undefined variable \"$nosuch\"");
}

/* Feeds bytes through a pipe and parses a response from the read end. */
static int pipe_conn(struct http_conn *c, const char *bytes, size_t n)
{
    int p[2];
    if (pipe(p) < 0 || write(p[1], bytes, n) != (ssize_t)n)
        return -1;
    close(p[1]);
    http_conn_init(c, p[0]);
    return 0;
}

static char *parse_body(const char *raw, int *status, const char **hdr_out, const char *hdr)
{
    struct http_conn c;
    struct http_response r;
    struct isd_error *err = NULL;
    char *body = NULL;
    if (pipe_conn(&c, raw, strlen(raw)) < 0)
        return NULL;
    if (http_read_response_head(&c, &r, &err) == 0) {
        *status = r.status;
        if (hdr != NULL && http_response_header(&r, hdr) != NULL)
            *hdr_out = "present";
        body = http_read_body_all(&c, &r, 1 << 20, NULL, &err);
    }
    http_response_free(&r);
    http_conn_close(&c);
    isd_error_free(err);
    return body;
}

TEST(http_response_framing)
{
    int status = 0;
    const char *h = NULL;
    cleanup_free char *a =
        parse_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Y: z\r\n\r\nhelloEXTRA", &status, &h, "x-y");
    ASSERT_STR_EQ(a, "hello");
    ASSERT_INT_EQ(status, 200);
    ASSERT_STR_EQ(h, "present");
    cleanup_free char *b = parse_body("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: x\r\n\r\n",
                                      &status, &h, NULL);
    ASSERT_STR_EQ(b, "Wikipedia in\r\n\r\nchunks.");
    ASSERT_INT_EQ(status, 201);
    cleanup_free char *c =
        parse_body("HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nuntil close", &status, &h, NULL);
    ASSERT_STR_EQ(c, "until close");
    ASSERT_INT_EQ(status, 404);
    cleanup_free char *d =
        parse_body("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", &status, &h, NULL);
    ASSERT_STR_EQ(d, "");
    ASSERT_INT_EQ(status, 204);
    cleanup_free char *e = parse_body("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", &status, &h, NULL);
    ASSERT_TRUE(e == NULL);
    cleanup_free char *f = parse_body("garbage\r\n\r\n", &status, &h, NULL);
    ASSERT_TRUE(f == NULL);
}

TEST(http_upgrade_keeps_buffered_bytes)
{
    const char raw[] = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nRAWBYTES";
    struct http_conn c;
    struct http_response r;
    struct isd_error *err = NULL;
    char buf[32] = {0};
    ASSERT_INT_EQ(pipe_conn(&c, raw, strlen(raw)), 0);
    ASSERT_INT_EQ(http_read_response_head(&c, &r, &err), 0);
    ASSERT_TRUE(r.upgraded);
    ASSERT_INT_EQ(http_conn_read(&c, buf, sizeof(buf) - 1), 8);
    ASSERT_STR_EQ(buf, "RAWBYTES");
    ASSERT_INT_EQ(http_conn_read(&c, buf, sizeof(buf)), 0);
    http_response_free(&r);
    http_conn_close(&c);
}

struct collect {
    struct buf out, err;
};

static int collect_sink(int stream, const char *data, size_t len, void *ctx)
{
    struct collect *c = ctx;
    buf_append(stream == STDCOPY_STDOUT ? &c->out : &c->err, data, len);
    return 0;
}

TEST(stdcopy_frames_split_anywhere)
{
    unsigned char frames[64];
    size_t n = 0;
    struct stdcopy d = {0};
    struct collect col = {0};
    stdcopy_header(frames, STDCOPY_STDOUT, 5);
    memcpy(frames + 8, "hello", 5);
    stdcopy_header(frames + 13, STDCOPY_STDERR, 3);
    memcpy(frames + 21, "err", 3);
    stdcopy_header(frames + 24, STDCOPY_STDOUT, 0);
    stdcopy_header(frames + 32, STDCOPY_STDOUT, 1);
    frames[40] = '!';
    n = 41;
    for (size_t i = 0; i < n; i++)
        ASSERT_INT_EQ(stdcopy_feed(&d, (const char *)frames + i, 1, collect_sink, &col), 0);
    ASSERT_STR_EQ(col.out.data, "hello!");
    ASSERT_STR_EQ(col.err.data, "err");
    /* a bad header after good frames is an error */
    frames[0] = 9;
    ASSERT_INT_EQ(stdcopy_feed(&d, (const char *)frames, 8, collect_sink, &col), -1);
    buf_free(&col.out);
    buf_free(&col.err);
    /* an unframed stream (a start error written raw) is passed through to stderr */
    memset(&d, 0, sizeof(d));
    ASSERT_INT_EQ(stdcopy_feed(&d, "exec failed: x\r\n", 4, collect_sink, &col), 0);
    ASSERT_INT_EQ(stdcopy_feed(&d, "exec failed: x\r\n" + 4, 4, collect_sink, &col), 0);
    ASSERT_INT_EQ(stdcopy_feed(&d, "exec failed: x\r\n" + 8, 8, collect_sink, &col), 0);
    ASSERT_STR_EQ(col.err.data, "exec failed: x\r\n");
    ASSERT_TRUE(col.out.data == NULL);
    buf_free(&col.err);
}

TEST(format_durations_and_sizes)
{
    const char *cases[][2] = {{"0", "Less than a second"}, {"1", "1 second"},     {"2", "2 seconds"},
                              {"60", "About a minute"},    {"780", "13 minutes"}, {"3600", "About an hour"},
                              {"7200", "2 hours"},         {"259200", "3 days"}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cleanup_free char *s = human_duration(atoll(cases[i][0]));
        ASSERT_STR_EQ(s, cases[i][1]);
    }
    long long now = 1700000000LL * 1000000000LL;
    cleanup_free char *a = format_since("2023-11-14T22:00:20Z", now);
    ASSERT_STR_EQ(a, "13 minutes ago");
    cleanup_free char *b = format_since("0001-01-01T00:00:00Z", now);
    ASSERT_STR_EQ(b, "-");
    cleanup_free char *c = format_size(1376256);
    ASSERT_STR_EQ(c, "1.376 MB");
    cleanup_free char *d = format_size(512);
    ASSERT_STR_EQ(d, "512 B");
    ASSERT_STR_EQ(format_state_word("created"), "inited");
    ASSERT_STR_EQ(format_state_word("exited"), "exited");
}

TEST(format_ps_rows_and_table)
{
    const char *item = "{\"Id\":\"fd7376591a9c3d8ee9a14f5d2c2e5255b02cc44cddaabca82170efd4497510e1\","
                       "\"Names\":[\"/fd7376591a9c3d8ee9a14f5d2c2e5255b02cc44cddaabca82170efd4497510e1\"],"
                       "\"Image\":\"busybox\",\"Command\":\"sh\",\"State\":\"created\",\"Pid\":0,\"ExitCode\":0,"
                       "\"RestartCount\":0,\"StartedAt\":\"0001-01-01T00:00:00Z\","
                       "\"FinishedAt\":\"0001-01-01T00:00:00Z\",\"Runtime\":\"runc\"}";
    json_t *it = json_loads(item, 0, NULL), *row = format_ps_row(it, false, 0), *hdr = format_ps_header();
    struct isd_error *err = NULL;
    struct template *t = template_parse("{{.ID}} {{.Image}}  {{.Status}} {{.Pid}} {{.Command}} {{.Names}}", &err);
    struct buf b1 = {0}, b2 = {0};
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    ASSERT_TRUE(t != NULL && f != NULL);
    ASSERT_INT_EQ(template_exec(t, hdr, true, &b1, &err), 0);
    ASSERT_INT_EQ(template_exec(t, row, true, &b2, &err), 0);
    char **rows[2] = {format_split_cells(b1.data), format_split_cells(b2.data)};
    format_table_print(f, rows, 2);
    fclose(f);
    ASSERT_STR_EQ(out, "ID           IMAGE   STATUS PID COMMAND NAMES\n"
                       "fd7376591a9c busybox inited -   \"sh\"    "
                       "fd7376591a9c3d8ee9a14f5d2c2e5255b02cc44cddaabca82170efd4497510e1\n");
    free(out);
    strv_free(rows[0]);
    strv_free(rows[1]);
    buf_free(&b1);
    buf_free(&b2);
    template_free(t);
    json_decref(it);
    json_decref(row);
    json_decref(hdr);
}

/* ---- fake daemon on a unix socket (test double) ---- */

struct fake {
    int lfd;
    const char *reply;  /* raw bytes to send after the request */
    size_t reply_len;   /* 0: strlen(reply) */
    const char *reply2; /* sent after reading more from the client (hijack); may be NULL */
    char request[8192];
};

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    size_t n = 0;
    if (fd < 0)
        return NULL;
    /* read the head and any body that arrives promptly */
    for (;;) {
        ssize_t r = read(fd, f->request + n, sizeof(f->request) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        f->request[n] = '\0';
        char *end = strstr(f->request, "\r\n\r\n");
        const char *cl = strcasestr(f->request, "Content-Length: ");
        if (end != NULL && (cl == NULL || strlen(end + 4) >= (size_t)atoi(cl + 16)))
            break;
    }
    if (write(fd, f->reply, f->reply_len ? f->reply_len : strlen(f->reply)) < 0)
        perror("fake write");
    if (f->reply2 != NULL) {
        char buf[256];
        ssize_t r = read(fd, buf, sizeof(buf) - 1); /* stdin forwarded by the client */
        if (r > 0 && write(fd, f->reply2, strlen(f->reply2)) < 0)
            perror("fake write");
    }
    shutdown(fd, SHUT_WR);
    char sink[256];
    while (read(fd, sink, sizeof(sink)) > 0)
        ;
    close(fd);
    return NULL;
}

static char *fake_start(struct fake *f, pthread_t *th)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char cwd[64];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/d.sock", cwd);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 4) < 0)
        return NULL;
    pthread_create(th, NULL, fake_serve, f);
    return xasprintf("unix://%s", sa.sun_path);
}

TEST(client_call_against_fake_daemon)
{
    struct fake f = {.reply = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                              "chunked\r\n\r\n8\r\n{\"Id\":\"a\r\n5\r\nbc\"}\n\r\n0\r\n\r\n"};
    pthread_t th;
    cleanup_free char *host = fake_start(&f, &th);
    struct isd_error *err = NULL;
    json_t *body = json_pack("{s:s}", "Image", "busybox"), *resp = NULL;
    ASSERT_TRUE(host != NULL);
    ASSERT_INT_EQ(client_call(host, "POST", "/containers/create?name=x", body, &resp, &err), 201);
    pthread_join(th, NULL);
    close(f.lfd);
    ASSERT_STR_EQ(json_get_str(resp, "Id"), "abc");
    ASSERT_TRUE(str_has_prefix(f.request, "POST /v1.41/containers/create?name=x HTTP/1.1\r\n"));
    ASSERT_TRUE(strstr(f.request, "\r\nHost: isulad\r\n") != NULL);
    ASSERT_TRUE(strstr(f.request, "Content-Type: application/json\r\n") != NULL);
    ASSERT_TRUE(str_has_suffix(f.request, "\r\n\r\n{\"Image\":\"busybox\"}"));
    json_decref(body);
    json_decref(resp);
}

TEST(client_daemon_error_and_connect_error)
{
    struct fake f = {.reply = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n"
                              "{\"message\":\"No such container: nosuch\"}"};
    pthread_t th;
    cleanup_free char *host = fake_start(&f, &th);
    struct isd_error *err = NULL;
    ASSERT_INT_EQ(client_call(host, "POST", "/containers/nosuch/start", NULL, NULL, &err), -1);
    pthread_join(th, NULL);
    close(f.lfd);
    ASSERT_TRUE(client_error_is_daemon(err));
    ASSERT_INT_EQ(err->code, ISD_ERR_NOT_FOUND);
    ASSERT_STR_EQ(err->msg, "No such container: nosuch");
    ASSERT_TRUE(strstr(f.request, "Content-Length: 0\r\n") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(client_call("unix:///nonexistent/isulad.sock", "GET", "/_ping", NULL, NULL, &err), -1);
    ASSERT_TRUE(client_error_is_connect(err));
    ASSERT_STR_EQ(err->msg, "Cannot connect to the isulad daemon at unix:///nonexistent/isulad.sock. Is the isulad "
                            "daemon running?");
    isd_error_free(err);
}

TEST(hijacked_attach_against_fake_daemon)
{
    static char reply[256];
    const char *head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                       "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    size_t n = strlen(head);
    unsigned char h[8];
    memcpy(reply, head, n);
    stdcopy_header(h, 1, 3);
    memcpy(reply + n, h, 8);
    memcpy(reply + n + 8, "out", 3);
    stdcopy_header(h, 2, 4);
    memcpy(reply + n + 11, h, 8);
    memcpy(reply + n + 19, "err\n", 4);
    struct fake f = {.reply = reply, .reply_len = n + 23};
    pthread_t th;
    cleanup_free char *host = fake_start(&f, &th);
    struct http_request req = {.method = "POST",
                               .path = "/containers/c1/attach?stream=1&stdin=0&stdout=1&stderr=1",
                               .body_fd = -1,
                               .upgrade = true};
    struct http_conn c;
    struct http_response r;
    struct isd_error *err = NULL;
    int out[2], errp[2];
    char buf[16] = {0};
    ASSERT_INT_EQ(pipe(out), 0);
    ASSERT_INT_EQ(pipe(errp), 0);
    ASSERT_INT_EQ(client_request(host, &req, &c, &r, &err), 0);
    ASSERT_TRUE(r.upgraded);
    struct stream_opts o = {.in_fd = -1, .out_fd = out[1], .err_fd = errp[1], .tty = false};
    ASSERT_INT_EQ(stream_pump(&c, &o, &err), 0);
    http_conn_close(&c);
    http_response_free(&r);
    pthread_join(th, NULL);
    close(f.lfd);
    ASSERT_TRUE(strstr(f.request, "Connection: Upgrade\r\nUpgrade: tcp\r\n") != NULL);
    ASSERT_TRUE(str_has_prefix(f.request, "POST /v1.41/containers/c1/attach?stream=1&stdin=0&stdout=1&stderr=1 "));
    ASSERT_INT_EQ(read(out[0], buf, sizeof(buf)), 3);
    ASSERT_STR_EQ(buf, "out");
    memset(buf, 0, sizeof(buf));
    ASSERT_INT_EQ(read(errp[0], buf, sizeof(buf)), 4);
    ASSERT_STR_EQ(buf, "err\n");
}

TEST(stream_pump_over_socketpair)
{
    int sv[2], out[2], errp[2], in[2];
    unsigned char frame[16];
    struct http_conn c;
    struct isd_error *err = NULL;
    char buf[64] = {0};
    ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_INT_EQ(pipe(out), 0);
    ASSERT_INT_EQ(pipe(errp), 0);
    ASSERT_INT_EQ(pipe(in), 0);
    stdcopy_header(frame, 1, 3);
    memcpy(frame + 8, "out", 3);
    ASSERT_INT_EQ(write(sv[1], frame, 11), 11);
    stdcopy_header(frame, 2, 3);
    memcpy(frame + 8, "err", 3);
    ASSERT_INT_EQ(write(sv[1], frame, 11), 11);
    ASSERT_INT_EQ(write(in[1], "input", 5), 5);
    close(in[1]);
    http_conn_init(&c, sv[0]);
    /* the peer closes its write side after reading stdin and its EOF */
    if (fork() == 0) {
        char b[16];
        ssize_t total = 0, r;
        while ((r = read(sv[1], b, sizeof(b))) > 0)
            total += r;
        _exit(total == 5 ? 0 : 1);
    }
    close(sv[1]);
    struct stream_opts o = {.in_fd = in[0], .out_fd = out[1], .err_fd = errp[1], .tty = false};
    ASSERT_INT_EQ(stream_pump(&c, &o, &err), 0);
    int status = 0;
    wait(&status);
    ASSERT_INT_EQ(WEXITSTATUS(status), 0);
    ASSERT_INT_EQ(read(out[0], buf, sizeof(buf)), 3);
    ASSERT_STR_EQ(buf, "out");
    memset(buf, 0, sizeof(buf));
    ASSERT_INT_EQ(read(errp[0], buf, sizeof(buf)), 3);
    ASSERT_STR_EQ(buf, "err");
    http_conn_close(&c);
}

RUN_TESTS()
