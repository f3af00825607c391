/*
 * The CDI registry (spec_cdi.h): a cache of the spec files of the spec directories, refreshed by stat at each
 * resolution, and the lookup of fully qualified device names. Lock: r->lock, never held across anything but
 * directory reads and the parsing of changed files.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cdi_name.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_cdi.h"

#define CDI_FILES_MAX 4096

struct cdi_file {
    char *path;
    int prio; /* index of its directory: higher wins */
    struct timespec mtime;
    off_t size;
    ino_t ino;
    json_t *spec; /* NULL when it did not parse or validate */
    char *error;  /* why, naming the file */
};

struct cdi_registry {
    pthread_mutex_t lock;
    char **dirs;
    struct cdi_file *files;
    size_t n_files;
};

struct cdi_registry *cdi_registry_new(char *const *dirs)
{
    struct cdi_registry *r = xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    if (dirs != NULL && dirs[0] != NULL) {
        r->dirs = strv_dup(dirs);
    } else {
        strv_append(&r->dirs, CDI_DEFAULT_STATIC_DIR);
        strv_append(&r->dirs, CDI_DEFAULT_DYNAMIC_DIR);
    }
    return r;
}

static void file_clear(struct cdi_file *f)
{
    free(f->path);
    free(f->error);
    json_decref(f->spec);
}

void cdi_registry_free(struct cdi_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_files; i++)
        file_clear(&r->files[i]);
    free(r->files);
    strv_free(r->dirs);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

char *const *cdi_registry_dirs(const struct cdi_registry *r)
{
    return r->dirs;
}

static bool is_spec_name(const char *name)
{
    return name[0] != '.' &&
           (str_has_suffix(name, ".json") || str_has_suffix(name, ".yaml") || str_has_suffix(name, ".yml"));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The spec file names of one directory, sorted (a missing directory has none). */
static char **dir_spec_names(const char *dir)
{
    char **names = NULL;
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    while (d != NULL && (e = readdir(d)) != NULL && n < CDI_FILES_MAX) {
        if (is_spec_name(e->d_name)) {
            strv_append(&names, e->d_name);
            n++;
        }
    }
    if (d != NULL)
        closedir(d);
    if (names != NULL)
        qsort(names, n, sizeof(char *), name_cmp);
    return names;
}

static bool same_file(const struct cdi_file *f, const struct stat *st)
{
    return f->ino == st->st_ino && f->size == st->st_size && f->mtime.tv_sec == st->st_mtim.tv_sec &&
           f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* The cached entry for path when the file is unchanged (moved out of the old table), else a fresh parse. */
static void file_load(struct cdi_registry *r, const char *path, const struct stat *st, int prio, struct cdi_file *out)
{
    struct isd_error *e = NULL;
    for (size_t i = 0; i < r->n_files; i++) {
        struct cdi_file *f = &r->files[i];
        if (f->path != NULL && streq(f->path, path) && same_file(f, st)) {
            *out = *f;
            out->prio = prio;
            memset(f, 0, sizeof(*f));
            return;
        }
    }
    *out = (struct cdi_file){
        .path = xstrdup(path), .prio = prio, .mtime = st->st_mtim, .size = st->st_size, .ino = st->st_ino};
    out->spec = cdi_spec_load(path, &e);
    if (e != NULL)
        out->error = xstrdup(e->msg);
    isd_error_free(e);
}

/* Re-reads the directories: unchanged files keep their parse, changed and new ones are parsed. Lock held. */
static void refresh(struct cdi_registry *r)
{
    struct cdi_file *files = NULL;
    size_t n = 0;
    for (size_t p = 0; r->dirs[p] != NULL; p++) {
        cleanup_strv char **names = dir_spec_names(r->dirs[p]);
        for (size_t i = 0; names != NULL && names[i] != NULL && n < CDI_FILES_MAX; i++) {
            cleanup_free char *path = path_join(r->dirs[p], names[i]);
            struct stat st;
            if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                continue;
            files = xrealloc(files, (n + 1) * sizeof(*files));
            file_load(r, path, &st, (int)p, &files[n++]);
        }
    }
    for (size_t i = 0; i < r->n_files; i++)
        file_clear(&r->files[i]);
    free(r->files);
    r->files = files;
    r->n_files = n;
}

static json_t *spec_device(const json_t *spec, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(spec, "devices"), i, d)
    {
        if (streq(json_get_str(d, "name"), name))
            return d;
    }
    return NULL;
}

/* Lock held. The file holding kind=name in the highest-priority directory that has it; -1 with err when none or
 * when two files of that directory define it. */
static int lookup(struct cdi_registry *r, const char *qualified, const char *kind, const char *name,
                  struct isd_error **err)
{
    int best = -1;
    for (size_t i = 0; i < r->n_files; i++) {
        const struct cdi_file *f = &r->files[i];
        if (f->spec == NULL || !streq(json_get_str(f->spec, "kind"), kind) || spec_device(f->spec, name) == NULL)
            continue;
        if (best >= 0 && r->files[best].prio == f->prio)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "CDI device `%s` is defined in both `%s` and `%s`", qualified,
                                 r->files[best].path, f->path);
        if (best < 0 || f->prio > r->files[best].prio)
            best = (int)i;
    }
    if (best < 0) {
        cleanup_free char *why = NULL;
        for (size_t i = 0; i < r->n_files; i++) {
            char *w;
            if (r->files[i].error == NULL)
                continue;
            w = why ? xasprintf("%s; %s", why, r->files[i].error) : xstrdup(r->files[i].error);
            free(why);
            why = w;
        }
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unresolvable CDI device `%s`: no such device in %s%s%s",
                             qualified, "the CDI spec directories", why ? "; invalid spec files: " : "",
                             why ? why : "");
    }
    return best;
}

static int resolve_locked(struct cdi_registry *r, const json_t *names, json_t *out, struct isd_error **err)
{
    bool *used = xcalloc(r->n_files + 1, sizeof(bool));
    cleanup_json json_t *seen = json_object();
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(names, i, v)
    {
        const char *q = json_string_value(v);
        cleanup_free char *kind = NULL, *name = NULL;
        json_t *edits;
        int f;
        if (q == NULL || json_object_get(seen, q) != NULL)
            continue;
        json_object_set_new(seen, q, json_true());
        if (cdi_name_parse(q, &kind, &name, err) < 0 || (f = lookup(r, q, kind, name, err)) < 0) {
            rc = -1;
            break;
        }
        if (!used[f] && (edits = json_object_get(r->files[f].spec, "containerEdits")) != NULL && !json_is_null(edits))
            json_array_append_new(out, json_deep_copy(edits));
        used[f] = true;
        edits = json_object_get(spec_device(r->files[f].spec, name), "containerEdits");
        if (edits != NULL && !json_is_null(edits))
            json_array_append_new(out, json_deep_copy(edits));
    }
    free(used);
    return rc;
}

json_t *cdi_registry_resolve(struct cdi_registry *r, const json_t *names, struct isd_error **err)
{
    cleanup_json json_t *out = json_array();
    int rc;
    if (!json_is_array(names)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "CDI devices must be an array of names");
        return NULL;
    }
    pthread_mutex_lock(&r->lock);
    refresh(r);
    rc = resolve_locked(r, names, out, err);
    pthread_mutex_unlock(&r->lock);
    return rc < 0 ? NULL : TAKE_PTR(out);
}

/* The DeviceIDs of one cdi request appended to out. */
static int request_ids(const json_t *rq, size_t i, json_t *out, struct isd_error **err)
{
    json_t *ids = json_object_get(rq, "DeviceIDs"), *id;
    size_t j;
    if (ids != NULL && !json_is_null(ids) && !json_is_array(ids))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "DeviceRequests[%zu].DeviceIDs must be an array", i);
    json_array_foreach(ids, j, id)
    {
        if (!json_is_string(id))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "DeviceRequests[%zu].DeviceIDs must hold strings", i);
        json_array_append(out, id);
    }
    return 0;
}

json_t *cdi_host_config_devices(const json_t *host_config, struct isd_error **err)
{
    cleanup_json json_t *out = json_array();
    json_t *reqs = json_object_get(host_config, "DeviceRequests"), *rq;
    size_t i;
    if (reqs != NULL && !json_is_null(reqs) && !json_is_array(reqs)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "HostConfig.DeviceRequests must be an array");
        return NULL;
    }
    json_array_foreach(reqs, i, rq)
    {
        if (streq(json_get_str(rq, "Driver"), CDI_DRIVER) && request_ids(rq, i, out, err) < 0)
            return NULL;
    }
    return TAKE_PTR(out);
}
