/* Exec, Attach and PortForward: each answers a one-time URL of the streaming server (stream_internal.h). */
#include <stdlib.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"
#include "daemon/api/cri/stream_internal.h"

/* The container must be a CRI container and run (exec) or exist (attach); answers its Config.Tty. */
static int container_tty(struct daemon *d, const char *id, bool must_run, bool *ret_tty, struct isd_error **err)
{
    cleanup_json json_t *j = service_pod_container_inspect(d, id, err);
    if (j == NULL)
        return -1;
    if (must_run && !json_get_bool(json_object_get(j, "State"), "Running", false))
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "container `%s` is not running", id);
    *ret_tty = json_get_bool(json_object_get(j, "Config"), "Tty", false);
    return 0;
}

ProtobufCMessage *cri_exec(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ExecRequest *q = (const Runtime__V1__ExecRequest *)req;
    struct stream_request *sr;
    char *url = NULL;
    bool ctty;
    if (q->n_cmd == 0) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "Exec: cmd is empty");
        return NULL;
    }
    if (!q->stdin && !q->stdout && !q->stderr) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "Exec: one of stdin, stdout and stderr must be set");
        return NULL;
    }
    if (q->tty && q->stderr) { /* CRI-R14, as kubelet and containerd: a tty has no stderr of its own */
        isd_error_set(err, ISD_ERR_INVALID, 0, "Exec: tty and stderr cannot both be true");
        return NULL;
    }
    if (container_tty(d, q->container_id, true, &ctty, err) < 0)
        return NULL;
    sr = xcalloc(1, sizeof(*sr));
    *sr = (struct stream_request){.kind = STREAM_EXEC,
                                  .id = xstrdup(q->container_id),
                                  .tty = q->tty,
                                  .in = q->stdin,
                                  .out = q->stdout,
                                  .err = q->stderr && !q->tty};
    sr->cmd = xcalloc(q->n_cmd + 1, sizeof(char *));
    for (size_t i = 0; i < q->n_cmd; i++)
        sr->cmd[i] = xstrdup(q->cmd[i]);
    if (stream_server_url(d, sr, &url, err) < 0)
        return NULL;
    Runtime__V1__ExecResponse *r = xmalloc(sizeof(*r));
    runtime__v1__exec_response__init(r);
    r->url = url;
    return &r->base;
}

/* The tty of an attach is the container's (its shim speaks raw bytes or frames by it), whatever the request says. */
ProtobufCMessage *cri_attach(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__AttachRequest *q = (const Runtime__V1__AttachRequest *)req;
    struct stream_request *sr;
    char *url = NULL;
    bool tty;
    if (!q->stdin && !q->stdout && !q->stderr) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "Attach: one of stdin, stdout and stderr must be set");
        return NULL;
    }
    if (container_tty(d, q->container_id, true, &tty, err) < 0)
        return NULL;
    sr = xcalloc(1, sizeof(*sr));
    *sr = (struct stream_request){.kind = STREAM_ATTACH,
                                  .id = xstrdup(q->container_id),
                                  .tty = tty,
                                  .in = q->stdin,
                                  .out = q->stdout,
                                  .err = q->stderr && !tty};
    if (stream_server_url(d, sr, &url, err) < 0)
        return NULL;
    Runtime__V1__AttachResponse *r = xmalloc(sizeof(*r));
    runtime__v1__attach_response__init(r);
    r->url = url;
    return &r->base;
}

ProtobufCMessage *cri_port_forward(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__PortForwardRequest *q = (const Runtime__V1__PortForwardRequest *)req;
    struct stream_request *sr;
    char *url = NULL;
    cleanup_json json_t *pod = service_pod_inspect(d, q->pod_sandbox_id, err);
    if (pod == NULL)
        return NULL;
    if (q->n_port > MUX_MAX_CH / 2) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "PortForward: at most %d ports", MUX_MAX_CH / 2);
        return NULL;
    }
    for (size_t i = 0; i < q->n_port; i++) {
        if (q->port[i] < 1 || q->port[i] > 65535) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "PortForward: invalid port %d", q->port[i]);
            return NULL;
        }
    }
    sr = xcalloc(1, sizeof(*sr));
    *sr = (struct stream_request){.kind = STREAM_PORTFORWARD, .id = xstrdup(json_get_str(pod, "Id"))};
    if (q->n_port > 0) {
        sr->ports = xcalloc(q->n_port, sizeof(int));
        for (size_t i = 0; i < q->n_port; i++)
            sr->ports[i] = q->port[i];
        sr->n_ports = q->n_port;
    }
    if (stream_server_url(d, sr, &url, err) < 0)
        return NULL;
    Runtime__V1__PortForwardResponse *r = xmalloc(sizeof(*r));
    runtime__v1__port_forward_response__init(r);
    r->url = url;
    return &r->base;
}
