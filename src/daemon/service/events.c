/* Events (GET /events): Docker's filters over the event log of events/events.h. */
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/events/events.h"
#include "daemon/image/reference.h"
#include "daemon/service/internal.h"

/* Docker's event filters, parsed once per request; a NULL list means no filter of that kind. */
struct events_job {
    char **type, **event, **container, **image, **label;
    long long since_ns, until_ns;
    int fd;
};

void service_events_job_free(struct events_job *j)
{
    strv_free(j->type), strv_free(j->event), strv_free(j->container), strv_free(j->image), strv_free(j->label);
    free(j);
}

/* No filter, or v equal to one of its values (or starting with one, for IDs). */
static bool any_of(char *const *vals, const char *v, bool prefix)
{
    if (vals == NULL)
        return true;
    for (size_t i = 0; v != NULL && vals[i] != NULL; i++)
        if (streq(vals[i], v) || (prefix && vals[i][0] != '\0' && str_has_prefix(v, vals[i])))
            return true;
    return false;
}

/* The image named as the user wrote it or in its normalised form (busybox, busybox:latest). */
static bool image_matches(char *const *vals, const char *image)
{
    cleanup_free char *norm = image != NULL ? reference_normalize(image, NULL) : NULL;
    return any_of(vals, image, false) || (norm != NULL && any_of(vals, norm, false));
}

static bool event_matches(const json_t *ev, const struct events_job *f)
{
    const char *type = json_get_str(ev, "Type"), *id = json_get_str(json_object_get(ev, "Actor"), "ID");
    const json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    bool container = streq(type, "container");
    if (!any_of(f->type, type, false) || !any_of(f->event, json_get_str(ev, "Action"), false))
        return false;
    if (f->container != NULL &&
        (!container || !(any_of(f->container, id, true) || any_of(f->container, json_get_str(attrs, "name"), false))))
        return false;
    if (f->image != NULL && !image_matches(f->image, json_get_str(attrs, container ? "image" : "name")) &&
        !(!container && any_of(f->image, id, true)))
        return false;
    return json_labels_match(attrs, f->label);
}

static int event_write(const json_t *ev, void *ctx)
{
    struct events_job *j = ctx;
    cleanup_free char *text = NULL;
    if (!event_matches(ev, j))
        return 0;
    text = json_line(ev);
    if (text == NULL || fd_write_all(j->fd, text, strlen(text)) < 0)
        return -1; /* the client left */
    return 0;
}

static int check_keys(const json_t *filters, struct isd_error **err)
{
    static const char *const known[] = {"type", "event", "container", "image", "label"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)filters, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok = ok || streq(k, known[i]);
        if (!ok)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter '%s'", k);
    }
    return 0;
}

struct events_job *service_events_begin(struct daemon *d, const json_t *filters, long long since_ns, long long until_ns,
                                        struct isd_error **err)
{
    struct events_job *j;
    if (check_keys(filters, err) < 0)
        return NULL;
    cleanup_json json_t *expanded = service_filters_expand_ancestor(d, filters, "image");
    j = xcalloc(1, sizeof(*j));
    j->type = json_filter_values(filters, "type");
    j->event = json_filter_values(filters, "event");
    j->container = json_filter_values(filters, "container");
    j->image = json_filter_values(expanded, "image");
    j->label = json_filter_values(filters, "label");
    j->since_ns = since_ns;
    j->until_ns = until_ns;
    return j;
}

void service_events_run(struct events_job *j, int out_fd)
{
    j->fd = out_fd;
    events_follow(j->since_ns, j->until_ns, event_write, j);
    service_events_job_free(j);
}
