/* Image use cases of the CRI ImageService that the Docker API has no single call for: a pull that ends with the
 * image's ID (credentials given as fields, not as an X-Registry-Auth header), and the usage of the image store. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/registry/registry.h"
#include "daemon/service/internal.h"

/* The X-Registry-Auth value for user/password, or for auth ("user:password" in base64, as CRI sends it). */
static char *pull_auth_header(const char *user, const char *password, const char *auth)
{
    cleanup_free char *plain = NULL;
    if ((user == NULL || *user == '\0') && auth != NULL && *auth != '\0') {
        plain = registry_base64_decode(auth, NULL);
        char *colon = plain != NULL ? strchr(plain, ':') : NULL;
        if (colon == NULL)
            return NULL;
        *colon = '\0';
        user = plain;
        password = colon + 1;
    }
    if (user == NULL || *user == '\0')
        return NULL;
    cleanup_json json_t *j = json_pack("{s:s, s:s}", "username", user, "password", password != NULL ? password : "");
    cleanup_free char *text = json_dumps(j, JSON_COMPACT);
    char *out = registry_base64_encode(text, strlen(text));
    explicit_bzero(text, strlen(text));
    if (plain != NULL)
        explicit_bzero(plain, strlen(plain));
    return out;
}

char *service_image_pull_ref(struct daemon *d, const char *ref, const char *user, const char *password,
                             const char *auth, struct isd_error **err)
{
    cleanup_free char *header = pull_auth_header(user, password, auth);
    struct pull_job *j = service_image_pull_begin(d, ref, NULL, header, err);
    if (header != NULL)
        explicit_bzero(header, strlen(header));
    if (j == NULL)
        return NULL;
    int rc = service_image_pull_run(j, -1, err);
    service_image_pull_free(j);
    if (rc < 0)
        return NULL;
    cleanup_json json_t *img = service_image_inspect(d, ref, err);
    if (img == NULL)
        return NULL;
    return xstrdup(json_get_str(img, "Id"));
}

int service_image_fs_usage(struct daemon *d, char **ret_mountpoint, long long *ret_bytes, long long *ret_inodes,
                           struct isd_error **err)
{
    cleanup_free char *dir = xasprintf("%s/overlay", d->storage_root);
    if (!path_exists(dir))
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "image store `%s` does not exist", dir);
    *ret_bytes = dir_usage(dir, ret_inodes);
    *ret_mountpoint = TAKE_PTR(dir);
    return 0;
}
