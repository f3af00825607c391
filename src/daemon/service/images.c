/* Image use cases: thin wrappers over the image store, plus the in-use check that needs the containers. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/events/events.h"
#include "daemon/service/internal.h"

/* service_image_list (with its filters) lives in images_extra.c. */

json_t *service_image_inspect(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct image *img = image_store_lookup(d->images, ref, err);
    json_t *j;
    if (img == NULL)
        return NULL;
    j = image_inspect_json(img);
    image_free(img);
    return j;
}

/* The first container using image id, or NULL. */
static char *image_user(struct daemon *d, const char *id)
{
    struct container **v = container_store_list(d->containers, NULL);
    char *user = NULL;
    for (size_t i = 0; v[i] != NULL && user == NULL; i++)
        if (streq(v[i]->image_id, id))
            user = xstrdup(v[i]->id);
    container_list_free(v);
    return user;
}

json_t *service_image_remove(struct daemon *d, const char *ref, bool force, struct isd_error **err)
{
    struct image *img = image_store_lookup(d->images, ref, err);
    cleanup_free char *user = NULL;
    cleanup_strv char **untagged = NULL;
    cleanup_strv char **deleted = NULL;
    json_t *out;
    bool by_name;
    if (img == NULL)
        return NULL;
    user = image_user(d, img->id);
    /* Untagging one of several names never harms a container; deleting the image would. */
    by_name = !str_has_prefix(img->id, ref) && !str_has_prefix(ref, "sha256:");
    if (user != NULL && !force && !(by_name && strv_len(img->repo_tags) > 1)) {
        isd_error_set(err, ISD_ERR_CONFLICT, 0,
                      "conflict: unable to remove repository reference \"%s\" (must force) - container %.12s is "
                      "using its referenced image %.12s",
                      ref, user, img->id);
        image_free(img);
        return NULL;
    }
    cleanup_free char *id = xasprintf("sha256:%s", img->id);
    image_free(img);
    if (image_store_remove(d->images, ref, &untagged, &deleted, err) < 0)
        return NULL;
    out = json_array();
    for (size_t i = 0; untagged != NULL && untagged[i] != NULL; i++) {
        json_array_append_new(out, json_pack("{s:s}", "Untagged", untagged[i]));
        events_emit("image", "untag", id, NULL, json_pack("{s:s}", "name", untagged[i]));
    }
    for (size_t i = 0; deleted != NULL && deleted[i] != NULL; i++) {
        json_array_append_new(out, json_pack("{s:s}", "Deleted", deleted[i]));
        if (streq(deleted[i], id))
            events_emit("image", "delete", id, NULL, json_pack("{s:s}", "name", ref));
    }
    return out;
}

int service_image_tag(struct daemon *d, const char *ref, const char *repo, const char *tag, struct isd_error **err)
{
    cleanup_free char *target = NULL;
    if (repo == NULL || *repo == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "repository name must not be empty");
    target = tag != NULL && *tag != '\0' ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
    if (image_store_tag(d->images, ref, target, err) < 0)
        return -1;
    {
        cleanup_image struct image *img = image_store_lookup(d->images, target, NULL);
        if (img != NULL) {
            cleanup_free char *id = xasprintf("sha256:%s", img->id);
            events_emit("image", "tag", id, NULL, json_pack("{s:s}", "name", target));
        }
    }
    return 0;
}

/* Docker's image event for a loaded or imported image: Actor ID the image ID, attribute name. */
static void image_event(struct daemon *d, const char *action, const char *ref)
{
    struct image *img = image_store_lookup(d->images, ref, NULL);
    cleanup_free char *id = NULL;
    if (img == NULL)
        return;
    id = xasprintf("sha256:%s", img->id);
    events_emit("image", action, id, NULL, json_pack("{s:s}", "name", ref));
    image_free(img);
}

int service_image_load(struct daemon *d, int fd, char ***ret_loaded, struct isd_error **err)
{
    if (image_store_load(d->images, fd, NULL, ret_loaded, err) < 0)
        return -1;
    for (size_t i = 0; *ret_loaded != NULL && (*ret_loaded)[i] != NULL; i++)
        image_event(d, "load", (*ret_loaded)[i]);
    return 0;
}

int service_image_import(struct daemon *d, int fd, const char *repo, const char *tag, char *const *changes,
                         char **ret_id, struct isd_error **err)
{
    cleanup_free char *name = NULL;
    if (repo != NULL && *repo != '\0')
        name = tag != NULL && *tag != '\0' ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
    if (image_store_import(d->images, fd, name, changes, ret_id, err) < 0)
        return -1;
    image_event(d, "import", name != NULL ? name : *ret_id);
    return 0;
}

int service_image_save(struct daemon *d, char *const *refs, int out_fd, struct isd_error **err)
{
    return image_store_save(d->images, refs, out_fd, err);
}
