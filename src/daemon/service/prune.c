/* Prunes and disk usage (Docker's POST /containers/prune, POST /images/prune, GET /system/df). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"

/* Docker's prune filters: until (a time or a duration before now) and label / label! (k or k=v). */
struct prune_filter {
    long long until_ns; /* 0: none */
    char **label, **not_label;
};

static void prune_filter_clear(struct prune_filter *f)
{
    strv_free(f->label);
    strv_free(f->not_label);
}

static int prune_filter_parse(const json_t *filters, const char *const *extra, struct prune_filter *f,
                              struct isd_error **err)
{
    const char *k;
    json_t *v;
    cleanup_strv char **until = json_filter_values(filters, "until");
    json_object_foreach((json_t *)filters, k, v)
    {
        bool ok = streq(k, "until") || streq(k, "label") || streq(k, "label!");
        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
            ok = ok || streq(k, extra[i]);
        if (!ok)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter '%s'", k);
    }
    if (until != NULL && until[0] != NULL) {
        long long ns;
        char *end = NULL;
        long long secs = strtoll(until[0], &end, 10);
        if (parse_duration_ns(until[0], &ns) == 0)
            f->until_ns = now_ns() - ns;
        else if (time_parse_rfc3339(until[0], &ns) == 0)
            f->until_ns = ns;
        else if (end != until[0] && (*end == '\0' || *end == '.'))
            f->until_ns = secs * 1000000000LL;
        else
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter 'until=%s'", until[0]);
    }
    f->label = json_filter_values(filters, "label");
    f->not_label = json_filter_values(filters, "label!");
    return 0;
}

static bool prune_filter_match(const struct prune_filter *f, long long created_ns, const json_t *labels)
{
    if (f->until_ns > 0 && created_ns >= f->until_ns)
        return false;
    if (f->label != NULL && !json_labels_match(labels, f->label))
        return false;
    for (size_t i = 0; f->not_label != NULL && f->not_label[i] != NULL; i++) {
        char *const one[] = {f->not_label[i], NULL};
        if (json_labels_match(labels, one))
            return false;
    }
    return true;
}

/* The stopped containers (created, exited, dead) that pass the filters, removed with their rootfs. */
json_t *service_container_prune(struct daemon *d, const json_t *filters, struct isd_error **err)
{
    struct prune_filter f = {0};
    size_t n = 0;
    struct container **v;
    json_t *deleted;
    long long reclaimed = 0;
    if (filters != NULL && prune_filter_parse(filters, NULL, &f, err) < 0) {
        prune_filter_clear(&f);
        return NULL;
    }
    v = container_store_list(d->containers, &n);
    deleted = json_array();
    for (size_t i = 0; i < n; i++) {
        struct container *c = v[i];
        cleanup_free char *id = NULL;
        long long size = 0;
        pthread_mutex_lock(&c->lock);
        if (!container_is_active(c) && prune_filter_match(&f, c->created_ns, json_object_get(c->config, "Labels")))
            id = xstrdup(c->id);
        pthread_mutex_unlock(&c->lock);
        if (id != NULL)
            size = service_container_size_rw(d, c);
        if (id != NULL && service_container_remove(d, id, false, false, NULL) == 0) {
            json_array_append_new(deleted, json_string(id));
            reclaimed += size;
        }
    }
    container_list_free(v);
    prune_filter_clear(&f);
    return json_pack("{s:o, s:I}", "ContainersDeleted", deleted, "SpaceReclaimed", (json_int_t)reclaimed);
}
