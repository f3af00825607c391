/*
 * Stored registry logins: one JSON file {"auths": {"<key>": {"auth": base64("user:password")}}}, mode
 * 0600, rewritten atomically. One process-wide mutex serialises read-modify-write cycles. Never logged.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/registry/registry.h"

#define AUTHS_MAX (1 << 20)

static pthread_mutex_t auths_lock = PTHREAD_MUTEX_INITIALIZER;

static json_t *auths_load(const char *path, struct isd_error **err)
{
    json_t *j;
    if (!path_exists(path))
        return json_pack("{s:{}}", "auths");
    j = json_load_path(path, AUTHS_MAX, err);
    if (j == NULL)
        return NULL;
    if (!json_is_object(json_object_get(j, "auths")))
        json_object_set_new(j, "auths", json_object());
    return j;
}

int registry_auths_get(const char *path, const char *server, char **ret_user, char **ret_password,
                       struct isd_error **err)
{
    cleanup_free char *key = registry_auth_key(server);
    cleanup_free char *plain = NULL;
    cleanup_json json_t *j = NULL;
    const char *auth;
    char *colon;
    *ret_user = *ret_password = NULL;
    pthread_mutex_lock(&auths_lock);
    j = auths_load(path, err);
    pthread_mutex_unlock(&auths_lock);
    if (j == NULL)
        return -1;
    auth = json_get_str(json_object_get(json_object_get(j, "auths"), key), "auth");
    if (auth == NULL)
        return 0;
    plain = registry_base64_decode(auth, NULL);
    if (plain == NULL || (colon = strchr(plain, ':')) == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "malformed stored login for `%s`", key);
    *ret_user = xstrndup(plain, (size_t)(colon - plain));
    *ret_password = xstrdup(colon + 1);
    explicit_bzero(plain, strlen(plain));
    return 0;
}

int registry_auths_set(const char *path, const char *server, const char *user, const char *password,
                       struct isd_error **err)
{
    cleanup_free char *key = registry_auth_key(server);
    cleanup_free char *plain = xasprintf("%s:%s", user, password);
    cleanup_free char *enc = registry_base64_encode(plain, strlen(plain));
    json_t *j;
    int r = -1;
    explicit_bzero(plain, strlen(plain));
    pthread_mutex_lock(&auths_lock);
    j = auths_load(path, err);
    if (j != NULL) {
        json_object_set_new(json_object_get(j, "auths"), key, json_pack("{s:s}", "auth", enc));
        r = json_write_path(path, j, true, err);
        json_decref(j);
    }
    pthread_mutex_unlock(&auths_lock);
    return r;
}

int registry_auths_remove(const char *path, const char *server, struct isd_error **err)
{
    cleanup_free char *key = registry_auth_key(server);
    json_t *j;
    int r = -1;
    pthread_mutex_lock(&auths_lock);
    j = auths_load(path, err);
    if (j != NULL) {
        if (json_object_del(json_object_get(j, "auths"), key) < 0)
            r = isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "not logged in to `%s`", key);
        else
            r = json_write_path(path, j, true, err);
        json_decref(j);
    }
    pthread_mutex_unlock(&auths_lock);
    return r;
}
