/* The local volume driver's store; see volume.h. */
#include "daemon/volume/volume.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/store.h"
#include "common/util.h"
#include "daemon/volume/volume_mount.h"

#define RECORD_MAX (64 * 1024)

struct volume_store {
    char *root;
    struct store *table; /* json_t records by Name */
    /* Serialises the mount and unmount decisions of volumes with options (holders/ files, mount, umount);
     * taken before the table lock, never while holding it. */
    pthread_mutex_t mount_lock;
};

static const char *rec_id(const void *item)
{
    return json_get_str(item, "Name");
}

static void *rec_ref(void *item)
{
    return json_deep_copy(item);
}

static void rec_release(void *item)
{
    json_decref(item);
}

static const struct store_ops volume_ops = {.id = rec_id, .ref = rec_ref, .release = rec_release};

bool volume_name_valid(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n < 2 || n > 255 || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
            return false;
    }
    return true;
}

char *volume_store_path(struct volume_store *vs, const char *name)
{
    return xasprintf("%s/%s/_data", vs->root, name);
}

char *volume_store_name_of(struct volume_store *vs, const char *path)
{
    size_t n = strlen(vs->root), len = path != NULL ? strlen(path) : 0;
    cleanup_free char *name = NULL;
    if (len <= n + 7 || strncmp(path, vs->root, n) != 0 || path[n] != '/' || strcmp(path + len - 6, "/_data") != 0)
        return NULL;
    name = xstrndup(path + n + 1, len - n - 7);
    return volume_name_valid(name) ? TAKE_PTR(name) : NULL;
}

/* Docker's shape of a record. */
static json_t *docker_json(struct volume_store *vs, const json_t *rec)
{
    cleanup_free char *mp = volume_store_path(vs, json_get_str(rec, "Name"));
    json_t *j = json_pack("{s:O, s:s, s:O, s:s, s:O, s:O, s:s}", "CreatedAt", json_object_get(rec, "CreatedAt"),
                          "Driver", "local", "Labels", json_object_get(rec, "Labels"), "Mountpoint", mp, "Name",
                          json_object_get(rec, "Name"), "Options", json_object_get(rec, "Options"), "Scope", "local");
    if (json_get_str(rec, "Owner") != NULL) {
        json_object_set(j, "Owner", json_object_get(rec, "Owner"));
        json_object_set(j, "Destination", json_object_get(rec, "Destination"));
    }
    return j;
}

static void load_one(struct volume_store *vs, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s/volume.json", vs->root, name);
    struct isd_error *err = NULL;
    json_t *rec = json_load_path(path, RECORD_MAX, &err);
    isd_error_free(err);
    if (rec == NULL || !streq(json_get_str(rec, "Name"), name) || store_add_locked(vs->table, rec) < 0)
        json_decref(rec);
}

struct volume_store *volume_store_open(const char *root, struct isd_error **err)
{
    struct volume_store *vs;
    DIR *d;
    struct dirent *de;
    if (mkdir_p(root, 0700, err) < 0)
        return NULL;
    vs = xcalloc(1, sizeof(*vs));
    vs->root = xstrdup(root);
    vs->table = store_new(&volume_ops);
    pthread_mutex_init(&vs->mount_lock, NULL);
    d = opendir(root);
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (volume_name_valid(de->d_name))
            load_one(vs, de->d_name);
    }
    if (d != NULL)
        closedir(d);
    return vs;
}

void volume_store_free(struct volume_store *vs)
{
    if (vs == NULL)
        return;
    store_free(vs->table);
    pthread_mutex_destroy(&vs->mount_lock);
    free(vs->root);
    free(vs);
}

static json_t *new_record(const char *name, const json_t *labels, const json_t *opts, const char *owner,
                          const char *destination)
{
    cleanup_free char *created = time_rfc3339_nano(now_ns());
    json_t *rec = json_pack("{s:s, s:s, s:s, s:o, s:o}", "Name", name, "Driver", "local", "CreatedAt", created,
                            "Labels", json_is_object(labels) ? json_deep_copy(labels) : json_object(), "Options",
                            json_is_object(opts) ? json_deep_copy(opts) : json_object());
    if (owner != NULL) {
        json_object_set_new(rec, "Owner", json_string(owner));
        json_object_set_new(rec, "Destination", json_string(destination != NULL ? destination : ""));
    }
    return rec;
}

static int write_new(struct volume_store *vs, const char *name, json_t *rec, struct isd_error **err)
{
    cleanup_free char *data = volume_store_path(vs, name);
    cleanup_free char *path = xasprintf("%s/%s/volume.json", vs->root, name);
    if (mkdir_p(data, 0755, err) < 0 || json_write_path(path, rec, true, err) < 0)
        return -1;
    return 0;
}

json_t *volume_store_create(struct volume_store *vs, const char *name, const char *driver, const json_t *labels,
                            const json_t *opts, const char *owner, const char *destination, bool *ret_new,
                            struct isd_error **err)
{
    cleanup_free char *gen = NULL;
    json_t *rec, *out;
    if (driver != NULL && driver[0] != '\0' && !streq(driver, "local"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "volume driver `%s` is not supported: only local", driver), NULL;
    if (volume_opts_check(opts, err) < 0)
        return isd_error_wrap(err, "create %s", name != NULL && name[0] != '\0' ? name : "volume"), NULL;
    if (name == NULL || name[0] == '\0')
        name = gen = random_hex(64);
    if (!volume_name_valid(name))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "create %s: \"%s\" includes invalid characters for a local volume name, only "
                             "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, "
                             "use absolute path",
                             name, name),
               NULL;
    store_lock(vs->table);
    rec = store_find_id_locked(vs->table, name);
    if (ret_new != NULL)
        *ret_new = rec == NULL;
    if (rec == NULL) {
        rec = new_record(name, labels, opts, owner, destination);
        if (write_new(vs, name, rec, err) < 0) {
            store_unlock(vs->table);
            json_decref(rec);
            return NULL;
        }
        store_add_locked(vs->table, rec);
    }
    out = docker_json(vs, rec);
    store_unlock(vs->table);
    return out;
}

json_t *volume_store_get(struct volume_store *vs, const char *name, struct isd_error **err)
{
    json_t *rec, *out = NULL;
    store_lock(vs->table);
    rec = name != NULL ? store_find_id_locked(vs->table, name) : NULL;
    if (rec != NULL)
        out = docker_json(vs, rec);
    store_unlock(vs->table);
    if (out == NULL)
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "get %s: no such volume", name ? name : "");
    return out;
}

static bool is_anonymous_of(const void *item, const void *arg)
{
    const char *const *k = arg;
    return streq(json_get_str(item, "Owner"), k[0]) && streq(json_get_str(item, "Destination"), k[1]);
}

json_t *volume_store_find_anonymous(struct volume_store *vs, const char *owner, const char *destination)
{
    const char *key[2] = {owner, destination};
    json_t *rec, *out = NULL;
    store_lock(vs->table);
    rec = store_find_locked(vs->table, is_anonymous_of, key);
    if (rec != NULL)
        out = docker_json(vs, rec);
    store_unlock(vs->table);
    return out;
}

json_t *volume_store_list(struct volume_store *vs)
{
    json_t *a = json_array();
    store_lock(vs->table);
    for (size_t i = 0; i < store_count_locked(vs->table); i++)
        json_array_append_new(a, docker_json(vs, store_at_locked(vs->table, i)));
    store_unlock(vs->table);
    return a;
}

int volume_store_remove(struct volume_store *vs, const char *name, struct isd_error **err)
{
    cleanup_free char *dir = NULL;
    json_t *rec;
    store_lock(vs->table);
    rec = name != NULL ? store_find_id_locked(vs->table, name) : NULL;
    if (rec != NULL)
        store_remove_locked(vs->table, rec);
    store_unlock(vs->table);
    if (rec == NULL)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "get %s: no such volume", name ? name : "");
    json_decref(rec);
    dir = xasprintf("%s/%s", vs->root, name);
    pthread_mutex_lock(&vs->mount_lock);
    {
        cleanup_free char *data = volume_store_path(vs, name);
        if (volume_is_mountpoint(data) && umount2(data, MNT_DETACH) < 0) /* a leftover of a crash */
            log_warn("unmount volume `%s`: %s", name, strerror(errno));
    }
    pthread_mutex_unlock(&vs->mount_lock);
    return rm_rf(dir, err);
}

/* The record's Options when they ask for a mount, else NULL. */
static json_t *mount_options(struct volume_store *vs, const char *name)
{
    json_t *rec, *opts = NULL;
    store_lock(vs->table);
    rec = store_find_id_locked(vs->table, name);
    if (rec != NULL && volume_opts_mount(json_object_get(rec, "Options")))
        opts = json_deep_copy(json_object_get(rec, "Options"));
    store_unlock(vs->table);
    return opts;
}

int volume_store_mount(struct volume_store *vs, const char *name, const char *holder, struct isd_error **err)
{
    cleanup_json json_t *opts = mount_options(vs, name);
    cleanup_free char *holders = NULL, *mark = NULL, *data = NULL;
    cleanup_close int fd = -1;
    int rc = 0;
    if (opts == NULL)
        return 0;
    holders = xasprintf("%s/%s/holders", vs->root, name);
    mark = xasprintf("%s/%s", holders, holder);
    data = volume_store_path(vs, name);
    pthread_mutex_lock(&vs->mount_lock);
    if (mkdir_p(holders, 0700, err) < 0 || (fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        rc = *err != NULL ? -1 : isd_error_errno(err, "volume %s: mark holder", name);
    } else if (!volume_is_mountpoint(data) && volume_fs_mount(opts, data, err) < 0) {
        unlink(mark);
        rc = isd_error_wrap(err, "mount volume %s", name);
    }
    pthread_mutex_unlock(&vs->mount_lock);
    return rc;
}

/* Drops holder's mark on volume name; unmounts when it was the last (lock held). */
static void release_one(struct volume_store *vs, const char *name, const char *holder)
{
    cleanup_free char *holders = xasprintf("%s/%s/holders", vs->root, name);
    cleanup_free char *mark = xasprintf("%s/%s", holders, holder);
    cleanup_free char *data = volume_store_path(vs, name);
    DIR *d;
    struct dirent *de;
    bool last = true;
    if (unlink(mark) < 0)
        return;
    d = opendir(holders);
    while (d != NULL && last && (de = readdir(d)) != NULL)
        last = de->d_name[0] == '.';
    if (d != NULL)
        closedir(d);
    /* detached: a container's own copy of the mount may still be torn down by the kernel */
    if (last && volume_is_mountpoint(data) && umount2(data, MNT_DETACH) < 0)
        log_warn("unmount volume `%s`: %s", name, strerror(errno));
}

/* Names of the volumes with mount options. */
static char **mounted_kind(struct volume_store *vs)
{
    char **names = NULL;
    store_lock(vs->table);
    for (size_t i = 0; i < store_count_locked(vs->table); i++) {
        const json_t *rec = store_at_locked(vs->table, i);
        if (volume_opts_mount(json_object_get(rec, "Options")))
            strv_append(&names, json_get_str(rec, "Name"));
    }
    store_unlock(vs->table);
    return names;
}

void volume_store_release(struct volume_store *vs, const char *holder)
{
    cleanup_strv char **names = mounted_kind(vs);
    pthread_mutex_lock(&vs->mount_lock);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        release_one(vs, names[i], holder);
    pthread_mutex_unlock(&vs->mount_lock);
}

void volume_store_release_stale(struct volume_store *vs, bool (*alive)(const char *holder, void *arg), void *arg)
{
    cleanup_strv char **names = mounted_kind(vs);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        cleanup_free char *holders = xasprintf("%s/%s/holders", vs->root, names[i]);
        cleanup_strv char **gone = NULL;
        DIR *d = opendir(holders);
        struct dirent *de;
        /* alive() locks containers: not under mount_lock, which the exit path takes with a container locked */
        while (d != NULL && (de = readdir(d)) != NULL) {
            if (de->d_name[0] != '.' && !alive(de->d_name, arg))
                strv_append(&gone, de->d_name);
        }
        if (d != NULL)
            closedir(d);
        pthread_mutex_lock(&vs->mount_lock);
        for (size_t j = 0; gone != NULL && gone[j] != NULL; j++)
            release_one(vs, names[i], gone[j]);
        pthread_mutex_unlock(&vs->mount_lock);
    }
}
