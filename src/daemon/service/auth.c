/*
 * Registry login/logout (POST /auth, DELETE /isula/auth): credentials are checked against the registry's
 * /v2/ with the challenge flow, then kept in <graph>/auths.json (0600, atomic). Never logged. Thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/pull.h"
#include "daemon/image/registry/registry.h"
#include "daemon/service/internal.h"

/* Checks the login against the registry: insecure registries may answer over plain http. */
static int check_login(struct daemon *d, const char *key, const char *user, const char *password,
                       struct isd_error **err)
{
    const struct isd_config *cfg = d->cfg;
    long long deadline = cfg->image_opt_timeout_ns > 0 ? now_ns() + cfg->image_opt_timeout_ns : 0;
    struct registry_client_opts o = {pull_certs_dir(),      cfg->insecure_skip_verify_enforce, deadline, user, password,
                                     cfg->use_decrypted_key};
    size_t n = 0;
    /* the original registry is the last endpoint: mirrors are not where users log in */
    struct registry_endpoint *eps = registry_endpoints(key, NULL, cfg->insecure_registries, &n);
    struct registry_client *c = registry_client_new(&eps[n - 1], NULL, &o);
    int r = registry_client_ping(c, err);
    registry_client_free(c);
    registry_endpoints_free(eps, n);
    return r;
}

int service_auth_login(struct daemon *d, const json_t *body, struct isd_error **err)
{
    const char *user = json_get_str(body, "username"), *password = json_get_str(body, "password");
    const char *server = json_get_str(body, "serveraddress");
    cleanup_free char *key = NULL, *path = service_auths_path(d);
    if (user == NULL || *user == '\0' || password == NULL || *password == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "login: username and password are required");
    if (strchr(user, ':') != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "login: the username must not contain `:`");
    key = registry_auth_key(server);
    if (check_login(d, key, user, password, err) < 0)
        return isd_error_wrap(err, "login to `%s`", key);
    return registry_auths_set(path, key, user, password, err);
}

int service_auth_logout(struct daemon *d, const char *server, struct isd_error **err)
{
    cleanup_free char *path = service_auths_path(d);
    if (server == NULL || *server == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "logout: serveraddress is required");
    return registry_auths_remove(path, server, err);
}
