/* The pods' network (CRI): the default network is the first configuration of cni-conf-dir in lexical order. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/network/cni.h"
#include "daemon/network/network.h"
#include "daemon/service/internal.h"

int service_pod_network_default(struct daemon *d, char **ret_name, struct isd_error **err)
{
    const char *dir = d->cfg->cni_conf_dir;
    cleanup_strv char **skipped = NULL;
    struct cni_net **v = cni_dir_load(dir, true, &skipped, err);
    if (v == NULL)
        return -1;
    if (v[0] == NULL) {
        cni_net_list_free(v);
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "no network configuration found in `%s`", dir);
    }
    *ret_name = xstrdup(v[0]->name);
    cni_net_list_free(v);
    return 0;
}

/* An interface name the kernel takes: 1-15 characters, no '/', no blank. */
static bool ifname_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 16 && strcspn(s, "/: \t\n") == n && !streq(s, ".") && !streq(s, "..");
}

/* The annotation's value: {"name": N, "interface": I} or an array of them (iSulad's form); interface optional.
 * Returns an array of objects. */
static json_t *extra_networks_parse(const char *value, struct isd_error **err)
{
    cleanup_json json_t *j = json_parse(value, strlen(value), err);
    if (j == NULL)
        return NULL;
    json_t *v = json_is_array(j) ? json_incref(j) : json_pack("[O]", j);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *name = json_get_str(e, "name"), *ifname = json_get_str(e, "interface");
        if (!json_is_object(e) || name == NULL || *name == '\0' ||
            (json_object_get(e, "interface") != NULL && (ifname == NULL || !ifname_valid(ifname)))) {
            json_decref(v);
            isd_error_set(err, ISD_ERR_INVALID, 0,
                          "each network needs a `name` and may name its `interface` (at most 15 characters)");
            return NULL;
        }
    }
    return v;
}

int service_pod_network_extra(struct daemon *d, const char *id, const char *annotation, struct isd_error **err)
{
    cleanup_json json_t *nets = extra_networks_parse(annotation, err);
    if (nets == NULL)
        return isd_error_wrap(err, "annotation `%s`", SERVICE_POD_NETWORK_ANNOTATION);
    cleanup_json json_t *pod = service_container_inspect(d, id, err);
    if (pod == NULL)
        return -1;
    const char *primary = json_get_str(json_object_get(pod, "HostConfig"), "NetworkMode");
    size_t i;
    json_t *e;
    json_array_foreach(nets, i, e)
    {
        const char *name = json_get_str(e, "name"), *ifname = json_get_str(e, "interface");
        if (streq(name, primary) && (ifname == NULL || streq(ifname, "eth0")))
            continue; /* the default network, named again */
        cleanup_json json_t *ep = ifname != NULL ? json_pack("{s:s}", "IfName", ifname) : json_object();
        if (service_network_connect(d, name, id, ep, err) < 0)
            return isd_error_wrap(err, "extra pod network `%s`", name);
    }
    return 0;
}

/* Port forwarding (CRI PortForward): the socket is made and connected by a short-lived thread that joins the pod's
 * network namespace, so no thread of the daemon's own changes namespace; the socket stays in the pod's. */
struct pod_connect {
    const char *netns;
    int port;
    int fd;
    int errnum;
    const char *step;
};

static void *pod_connect_thread(void *arg)
{
    struct pod_connect *pc = arg;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pc->port)};
    cleanup_close int ns = pc->netns != NULL ? open(pc->netns, O_RDONLY | O_CLOEXEC) : -1;
    int fd;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pc->step = "join the pod's network namespace";
    if (pc->netns != NULL && (ns < 0 || setns(ns, CLONE_NEWNET) < 0)) {
        pc->errnum = errno;
        return NULL;
    }
    pc->step = "connect";
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        pc->errnum = errno;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    pc->fd = fd;
    return NULL;
}

int service_pod_port_connect(struct daemon *d, const char *pod_id, int port, int *ret_fd, struct isd_error **err)
{
    cleanup_json json_t *pod = service_pod_inspect(d, pod_id, err);
    cleanup_free char *netns = NULL;
    struct pod_connect pc = {.port = port, .fd = -1};
    pthread_t t;
    if (pod == NULL)
        return -1;
    if (!json_get_bool(json_object_get(pod, "State"), "Running", false))
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "pod sandbox `%s` is not running", pod_id);
    if (port < 1 || port > 65535)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid port %d", port);
    /* a pod on the node's network is reached on the node's loopback */
    if (!streq(json_get_str(json_object_get(pod, "HostConfig"), "NetworkMode"), "host"))
        pc.netns = netns = xasprintf("%s/%s", d->network->netns_dir, json_get_str(pod, "Id"));
    if (pthread_create(&t, NULL, pod_connect_thread, &pc) != 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "port forward: cannot start a thread");
    pthread_join(t, NULL);
    if (pc.fd < 0)
        return isd_error_set(err, pc.errnum == ECONNREFUSED ? ISD_ERR_UNAVAILABLE : isd_error_code_of_errno(pc.errnum),
                             pc.errnum, "port forward to port %d of pod `%.12s`: %s: %s", port, json_get_str(pod, "Id"),
                             pc.step, strerror(pc.errnum));
    *ret_fd = pc.fd;
    return 0;
}
