/* The pods' network (CRI): the default network is the first configuration of cni-conf-dir in lexical order. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/network/cni.h"
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
