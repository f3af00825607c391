/* CNI configurations: parsing, validation (guide N-08..N-11) and loading a configuration directory. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/network/cni.h"

static const char *const supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

void cni_net_free(struct cni_net *n)
{
    if (n == NULL)
        return;
    free(n->name);
    free(n->cni_version);
    free(n->path);
    json_decref(n->conf);
    free(n);
}

void cleanup_cni_netp(struct cni_net **n)
{
    cni_net_free(*n);
}

void cni_net_list_free(struct cni_net **v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v[i] != NULL; i++)
        cni_net_free(v[i]);
    free(v);
}

bool cni_name_valid(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > CNI_MAX_NAME || strstr(name, "..") != NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool edge = i == 0 || i == len - 1;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            continue;
        if ((c == '-' || c == '.') && !edge)
            continue;
        return false;
    }
    return true;
}

/* Names of networks created through the Docker API (compose uses "<project>_default"): Docker's rule,
 * which is also safe as a file name. */
static bool loose_name_valid(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > CNI_MAX_NAME || strstr(name, "..") != NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

bool cni_version_supported(const char *version)
{
    for (size_t i = 0; i < ARRAY_SIZE(supported_versions); i++)
        if (streq(version, supported_versions[i]))
            return true;
    return false;
}

int cni_version_cmp(const char *a, const char *b)
{
    for (int part = 0; part < 3; part++) {
        long va = a != NULL && *a != '\0' ? strtol(a, (char **)&a, 10) : 0;
        long vb = b != NULL && *b != '\0' ? strtol(b, (char **)&b, 10) : 0;
        if (va != vb)
            return va < vb ? -1 : 1;
        if (a != NULL && *a == '.')
            a++;
        if (b != NULL && *b == '.')
            b++;
    }
    return 0;
}

/* A plugin type names a binary in cni-bin-dir: no path separators, nothing that climbs. */
static bool plugin_type_valid(const char *t)
{
    if (t == NULL || *t == '\0' || strlen(t) > 255 || t[0] == '.')
        return false;
    for (const char *p = t; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

static int check_plugins(const json_t *plugins, struct isd_error **err)
{
    size_t i;
    json_t *p;
    if (!json_is_array(plugins) || json_array_size(plugins) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "\"plugins\" must be a non-empty array");
    json_array_foreach(plugins, i, p)
    {
        const char *t = json_get_str(p, "type");
        if (!json_is_object(p))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "plugin %zu is not an object", i);
        if (t == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "plugin %zu has no \"type\"", i);
        if (!plugin_type_valid(t))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "plugin %zu has an invalid type `%s`", i, t);
    }
    return 0;
}

/* A single plugin's configuration becomes a list of one, keeping name and cniVersion at the top. */
static json_t *conf_to_list(json_t *conf)
{
    json_t *list = json_pack("{s:O, s:O, s:[O]}", "cniVersion", json_object_get(conf, "cniVersion"), "name",
                             json_object_get(conf, "name"), "plugins", conf);
    return list;
}

static int check_header(const json_t *j, bool strict_name, struct isd_error **err)
{
    const char *name = json_get_str(j, "name");
    const char *ver = json_get_str(j, "cniVersion");
    if (name == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "no network \"name\"");
    if (strict_name ? !cni_name_valid(name) : !loose_name_valid(name))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid network name `%.*s`: use lowercase letters, digits, '-' and '.' (not first or "
                             "last), at most %d characters",
                             64, name, CNI_MAX_NAME);
    if (ver == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "network `%s` has no \"cniVersion\"", name);
    if (!cni_version_supported(ver))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "network `%s`: cniVersion `%.32s` is not supported (supported: 0.3.0, 0.3.1, 0.4.0, "
                             "1.0.0)",
                             name, ver);
    return 0;
}

struct cni_net *cni_net_parse(const char *text, size_t len, bool is_list, bool strict_name, struct isd_error **err)
{
    cleanup_json json_t *j = NULL;
    struct cni_net *n;
    if (len > CNI_MAX_CONF_SIZE) {
        isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "configuration larger than %d bytes", CNI_MAX_CONF_SIZE);
        return NULL;
    }
    j = json_parse(text, len, err);
    if (j == NULL)
        return NULL;
    if (!json_is_object(j)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "configuration is not a JSON object");
        return NULL;
    }
    if (check_header(j, strict_name, err) < 0)
        return NULL;
    if (!is_list) {
        json_t *list = conf_to_list(j);
        json_decref(j);
        j = list;
    }
    if (check_plugins(json_object_get(j, "plugins"), err) < 0)
        return NULL;
    n = xcalloc(1, sizeof(*n));
    n->name = xstrdup(json_get_str(j, "name"));
    n->cni_version = xstrdup(json_get_str(j, "cniVersion"));
    n->conf = TAKE_PTR(j);
    return n;
}

static bool conf_suffix(const char *name, bool *ret_list)
{
    *ret_list = str_has_suffix(name, ".conflist");
    return *ret_list || str_has_suffix(name, ".conf") || str_has_suffix(name, ".json");
}

struct cni_net *cni_net_load(const char *path, bool strict_name, struct isd_error **err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    bool is_list;
    struct cni_net *n;
    if (!conf_suffix(path, &is_list)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "not a .conf, .conflist or .json file");
        return NULL;
    }
    text = read_file(path, CNI_MAX_CONF_SIZE, &len, err);
    if (text == NULL)
        return NULL;
    n = cni_net_parse(text, len, is_list, strict_name, err);
    if (n != NULL)
        n->path = xstrdup(path);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The configuration files of dir, sorted; NULL-terminated (empty when dir is missing). */
static char **conf_files(const char *dir, struct isd_error **err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = xcalloc(1, sizeof(char *));
    bool is_list;
    if (d == NULL) {
        if (errno == ENOENT)
            return v;
        free(v);
        isd_error_errno(err, "open cni config directory `%s`", dir);
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' && conf_suffix(de->d_name, &is_list))
            strv_append(&v, de->d_name);
    }
    closedir(d);
    qsort(v, strv_len(v), sizeof(char *), cmp_str);
    return v;
}

static bool net_list_has(struct cni_net **v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i]->name, name))
            return true;
    return false;
}

struct cni_net **cni_dir_load(const char *dir, bool strict_name, char ***ret_skipped, struct isd_error **err)
{
    cleanup_strv char **files = conf_files(dir, err);
    struct cni_net **nets;
    size_t n = 0;
    if (files == NULL)
        return NULL;
    nets = xcalloc(strv_len(files) + 1, sizeof(*nets));
    for (size_t i = 0; files[i] != NULL; i++) {
        cleanup_free char *path = path_join(dir, files[i]);
        cleanup_error struct isd_error *e = NULL;
        struct cni_net *net;
        if (i >= CNI_MAX_CONF_FILES) {
            if (ret_skipped != NULL) {
                cleanup_free char *why = xasprintf("`%s`: more than %d configuration files", path, CNI_MAX_CONF_FILES);
                strv_append(ret_skipped, why);
            }
            continue;
        }
        net = cni_net_load(path, strict_name, &e);
        if (net != NULL && net_list_has(nets, n, net->name)) {
            isd_error_set(&e, ISD_ERR_CONFLICT, 0, "network `%s` is already defined by an earlier file", net->name);
            cni_net_free(TAKE_PTR(net));
        }
        if (net == NULL) {
            if (ret_skipped != NULL) {
                cleanup_free char *why = xasprintf("`%s`: %s", path, e != NULL ? e->msg : "unreadable");
                strv_append(ret_skipped, why);
            }
            continue;
        }
        nets[n++] = net;
    }
    return nets;
}
