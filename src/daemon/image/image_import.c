/* image_store_import: a rootfs tar as a one-layer image with Dockerfile-style changes; see image_store.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_internal.h"
#include "daemon/image/reference.h"
#include "daemon/storage/layer_store.h"

static json_t *command_value(const char *rest)
{
    json_t *a;
    if (rest[0] == '[') {
        a = json_parse(rest, strlen(rest), NULL);
        if (json_is_array(a))
            return a;
        json_decref(a);
        return NULL;
    }
    return json_pack("[s, s, s]", "/bin/sh", "-c", rest);
}

static void set_env(json_t *cfg, const char *key, const char *value)
{
    json_t *env = json_object_get(cfg, "Env"), *e;
    cleanup_free char *kv = xasprintf("%s=%s", key, value);
    size_t i, klen = strlen(key);
    if (!json_is_array(env))
        json_object_set_new(cfg, "Env", env = json_array());
    json_array_foreach(env, i, e)
    {
        const char *s = json_string_value(e);
        if (s != NULL && strncmp(s, key, klen) == 0 && s[klen] == '=') {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

static char *unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        return s + 1;
    }
    return s;
}

/* "K=V K2=V2" or "K V" pairs, for ENV and LABEL. */
static int apply_pairs(json_t *cfg, const char *instr, char *rest)
{
    char *sp = strpbrk(rest, " \t"), *eq = strchr(rest, '=');
    if (eq == NULL || (sp != NULL && sp < eq)) {
        if (sp == NULL)
            return -1;
        *sp = '\0';
        if (strcmp(instr, "ENV") == 0)
            set_env(cfg, rest, unquote(sp + 1 + strspn(sp + 1, " \t")));
        else
            json_object_set_new(json_object_get(cfg, "Labels"), rest, json_string(unquote(sp + 1)));
        return 0;
    }
    for (char *save = NULL, *tok = strtok_r(rest, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
        char *e = strchr(tok, '=');
        if (e == NULL)
            return -1;
        *e = '\0';
        if (strcmp(instr, "ENV") == 0)
            set_env(cfg, unquote(tok), unquote(e + 1));
        else
            json_object_set_new(json_object_get(cfg, "Labels"), unquote(tok), json_string(unquote(e + 1)));
    }
    return 0;
}

static int apply_change(json_t *cfg, const char *change, struct isd_error **err)
{
    cleanup_free char *line = xstrdup(change);
    char *rest = line + strcspn(line, " \t");
    json_t *v;
    if (*rest != '\0')
        *rest++ = '\0';
    rest += strspn(rest, " \t");
    for (char *p = line; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (*rest == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid change `%s`", change);
    if (strcmp(line, "CMD") == 0 || strcmp(line, "ENTRYPOINT") == 0) {
        if ((v = command_value(rest)) == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid change `%s`", change);
        json_object_set_new(cfg, strcmp(line, "CMD") == 0 ? "Cmd" : "Entrypoint", v);
    } else if (strcmp(line, "ENV") == 0 || strcmp(line, "LABEL") == 0) {
        if (json_object_get(cfg, "Labels") == NULL)
            json_object_set_new(cfg, "Labels", json_object());
        if (apply_pairs(cfg, line, rest) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid change `%s`", change);
    } else if (strcmp(line, "WORKDIR") == 0 || strcmp(line, "USER") == 0 || strcmp(line, "STOPSIGNAL") == 0) {
        json_object_set_new(cfg,
                            strcmp(line, "WORKDIR") == 0 ? "WorkingDir"
                            : strcmp(line, "USER") == 0  ? "User"
                                                         : "StopSignal",
                            json_string(rest));
    } else if (strcmp(line, "EXPOSE") == 0 || strcmp(line, "VOLUME") == 0) {
        const char *key = strcmp(line, "EXPOSE") == 0 ? "ExposedPorts" : "Volumes";
        if (json_object_get(cfg, key) == NULL)
            json_object_set_new(cfg, key, json_object());
        for (char *save = NULL, *t = strtok_r(rest, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
            cleanup_free char *k =
                strcmp(key, "ExposedPorts") == 0 && strchr(t, '/') == NULL ? xasprintf("%s/tcp", t) : xstrdup(t);
            json_object_set_new(json_object_get(cfg, key), k, json_object());
        }
    } else {
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unsupported change `%s`", change);
    }
    return 0;
}

int image_config_apply_change(json_t *cfg, const char *change, struct isd_error **err)
{
    return apply_change(cfg, change, err);
}

static char *import_config(const char *diff_id, char *const *changes, struct isd_error **err)
{
    cleanup_free char *created = time_rfc3339_nano(now_ns());
    cleanup_json json_t *cfg = json_object();
    cleanup_json json_t *img = NULL;
    for (size_t i = 0; changes != NULL && changes[i] != NULL; i++) {
        if (changes[i][0] != '\0' && apply_change(cfg, changes[i], err) < 0)
            return NULL;
    }
    img = json_pack("{s:s, s:O, s:s, s:[{s:s, s:s}], s:s, s:{s:s, s:[s]}}", "architecture", "amd64", "config", cfg,
                    "created", created, "history", "created", created, "comment", "Imported from tarball", "os",
                    "linux", "rootfs", "type", "layers", "diff_ids", diff_id);
    return json_dumps(img, JSON_COMPACT);
}

int image_store_import(struct image_store *s, int fd, const char *repo_tag, char *const *changes, char **ret_id,
                       struct isd_error **err)
{
    cleanup_free char *norm = NULL, *chain = NULL, *diff = NULL, *cfg = NULL;
    if (repo_tag != NULL && (norm = reference_normalize(repo_tag, err)) == NULL)
        return -1;
    if (changes != NULL && (cfg = import_config("sha256:0", changes, err)) == NULL)
        return -1;
    free(cfg);
    if (layer_store_apply_tar(image_store_layers(s), NULL, fd, NULL, &chain, &diff, err) < 0)
        return isd_error_wrap(err, "import");
    cfg = import_config(diff, changes, err);
    if (cfg == NULL) {
        layer_store_unref(image_store_layers(s), chain, NULL, NULL);
        return -1;
    }
    return image_store_register(s, cfg, strlen(cfg), chain, norm != NULL ? (char *[]){norm, NULL} : NULL, NULL, ret_id,
                                err);
}
