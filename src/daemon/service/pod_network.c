/* The pods' network (CRI): the default network is the first configuration of cni-conf-dir in lexical order. */
#include <stdlib.h>

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
