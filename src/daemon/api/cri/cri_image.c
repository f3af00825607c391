/* ImageService: ListImages, ImageStatus, PullImage, RemoveImage, ImageFsInfo. Images are shown from the Docker
 * JSON shapes the service returns (Id, RepoTags, RepoDigests, Size, Config.User). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

static char **strv_of_json(const json_t *a, size_t *ret_n)
{
    size_t n = json_is_array(a) ? json_array_size(a) : 0, k = 0;
    char **v = n > 0 ? xcalloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++)
        if (json_is_string(json_array_get(a, i)))
            v[k++] = xstrdup(json_string_value(json_array_get(a, i)));
    *ret_n = k;
    return v;
}

/* Config.User: a numeric user (before any ":group") is the uid, a name is the username. */
static void image_user_set(Runtime__V1__Image *img, const char *user)
{
    cleanup_free char *u = xstrdup(user != NULL ? user : "");
    char *colon = strchr(u, ':'), *end = NULL;
    if (colon != NULL)
        *colon = '\0';
    long long uid = *u != '\0' && isdigit((unsigned char)*u) ? strtoll(u, &end, 10) : -1;
    if (end != NULL && *end == '\0') {
        img->uid = xmalloc(sizeof(*img->uid));
        runtime__v1__int64_value__init(img->uid);
        img->uid->value = uid;
    } else {
        img->username = xstrdup(u);
    }
}

static Runtime__V1__Image *image_of_json(const json_t *j)
{
    Runtime__V1__Image *img = xmalloc(sizeof(*img));
    runtime__v1__image__init(img);
    img->id = cri_strdup(json_get_str(j, "Id"));
    img->repo_tags = strv_of_json(json_object_get(j, "RepoTags"), &img->n_repo_tags);
    img->repo_digests = strv_of_json(json_object_get(j, "RepoDigests"), &img->n_repo_digests);
    json_t *size = json_object_get(j, "Size");
    img->size = json_is_integer(size) && json_integer_value(size) > 0 ? (uint64_t)json_integer_value(size) : 0;
    image_user_set(img, json_get_str(json_object_get(j, "Config"), "User"));
    img->spec = xmalloc(sizeof(*img->spec));
    runtime__v1__image_spec__init(img->spec);
    img->spec->image = cri_strdup(json_get_str(j, "Id"));
    return img;
}

static const char *spec_image(const Runtime__V1__ImageSpec *s)
{
    return s != NULL && s->image != NULL && *s->image != '\0' ? s->image : NULL;
}

/* The image ref names, or NULL when there is none (an error other than not-found is set in *err). */
static Runtime__V1__Image *image_find(struct daemon *d, const char *ref, struct isd_error **err)
{
    cleanup_error struct isd_error *e = NULL;
    cleanup_json json_t *j = service_image_inspect(d, ref, &e);
    if (j == NULL) {
        if (e->code != ISD_ERR_NOT_FOUND)
            isd_error_set(err, e->code, e->errnum, "%s", e->msg);
        return NULL;
    }
    return image_of_json(j);
}

ProtobufCMessage *cri_list_images(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ListImagesRequest *q = (const Runtime__V1__ListImagesRequest *)req;
    const char *want = spec_image(q->filter != NULL ? q->filter->image : NULL);
    Runtime__V1__ListImagesResponse *r = xmalloc(sizeof(*r));
    runtime__v1__list_images_response__init(r);
    if (want != NULL) {
        Runtime__V1__Image *img = image_find(d, want, err);
        if (img == NULL && *err != NULL) {
            protobuf_c_message_free_unpacked(&r->base, NULL);
            return NULL;
        }
        if (img != NULL) {
            r->images = xmalloc(sizeof(*r->images));
            r->images[r->n_images++] = img;
        }
        return &r->base;
    }
    cleanup_json json_t *list = service_image_list(d, false, NULL, err);
    if (list == NULL) {
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return NULL;
    }
    size_t n = json_array_size(list);
    r->images = n > 0 ? xcalloc(n, sizeof(*r->images)) : NULL;
    for (size_t i = 0; i < n; i++)
        r->images[r->n_images++] = image_of_json(json_array_get(list, i));
    return &r->base;
}

/* An unknown image is not an error here: the response has no image (kubelet pulls then). */
ProtobufCMessage *cri_image_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ImageStatusRequest *q = (const Runtime__V1__ImageStatusRequest *)req;
    const char *ref = spec_image(q->image);
    if (ref == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "ImageStatus: image.image is empty");
        return NULL;
    }
    Runtime__V1__Image *img = image_find(d, ref, err);
    if (img == NULL && *err != NULL)
        return NULL;
    Runtime__V1__ImageStatusResponse *r = xmalloc(sizeof(*r));
    runtime__v1__image_status_response__init(r);
    r->image = img;
    cleanup_json json_t *inspect = img != NULL && q->verbose ? service_image_inspect(d, img->id, NULL) : NULL;
    if (inspect != NULL)
        r->info = (Runtime__V1__ImageStatusResponse__InfoEntry **)cri_info_new(
            &runtime__v1__image_status_response__info_entry__descriptor, cri_image_info(inspect), &r->n_info);
    return &r->base;
}

ProtobufCMessage *cri_pull_image(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__PullImageRequest *q = (const Runtime__V1__PullImageRequest *)req;
    const char *ref = spec_image(q->image);
    const Runtime__V1__AuthConfig *a = q->auth;
    if (ref == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "PullImage: image.image is empty");
        return NULL;
    }
    char *id = service_image_pull_ref(d, ref, a != NULL ? a->username : NULL, a != NULL ? a->password : NULL,
                                      a != NULL ? a->auth : NULL, err);
    if (id == NULL)
        return NULL;
    Runtime__V1__PullImageResponse *r = xmalloc(sizeof(*r));
    runtime__v1__pull_image_response__init(r);
    r->image_ref = id;
    return &r->base;
}

/* Idempotent: removing an image that is not there succeeds. */
ProtobufCMessage *cri_remove_image(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__RemoveImageRequest *q = (const Runtime__V1__RemoveImageRequest *)req;
    const char *ref = spec_image(q->image);
    cleanup_error struct isd_error *e = NULL;
    if (ref == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "RemoveImage: image.image is empty");
        return NULL;
    }
    cleanup_json json_t *out = service_image_remove(d, ref, false, &e);
    if (out == NULL && e->code != ISD_ERR_NOT_FOUND) {
        isd_error_set(err, e->code, e->errnum, "%s", e->msg);
        return NULL;
    }
    Runtime__V1__RemoveImageResponse *r = xmalloc(sizeof(*r));
    runtime__v1__remove_image_response__init(r);
    return &r->base;
}

static Runtime__V1__UInt64Value *u64_new(long long v)
{
    Runtime__V1__UInt64Value *u = xmalloc(sizeof(*u));
    runtime__v1__uint64_value__init(u);
    u->value = v > 0 ? (uint64_t)v : 0;
    return u;
}

ProtobufCMessage *cri_image_fs_info(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    cleanup_free char *mountpoint = NULL;
    long long bytes = 0, inodes = 0;
    struct timespec ts;
    if (service_image_fs_usage(d, &mountpoint, &bytes, &inodes, err) < 0)
        return NULL;
    clock_gettime(CLOCK_REALTIME, &ts);
    Runtime__V1__FilesystemUsage *u = xmalloc(sizeof(*u));
    runtime__v1__filesystem_usage__init(u);
    u->timestamp = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    u->fs_id = xmalloc(sizeof(*u->fs_id));
    runtime__v1__filesystem_identifier__init(u->fs_id);
    u->fs_id->mountpoint = TAKE_PTR(mountpoint);
    u->used_bytes = u64_new(bytes);
    u->inodes_used = u64_new(inodes);
    Runtime__V1__ImageFsInfoResponse *r = xmalloc(sizeof(*r));
    runtime__v1__image_fs_info_response__init(r);
    r->n_image_filesystems = 1;
    r->image_filesystems = xmalloc(sizeof(*r->image_filesystems));
    r->image_filesystems[0] = u;
    return &r->base;
}
