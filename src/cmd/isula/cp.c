/*
 * isula cp: files between a container and the local file system through /containers/{id}/archive, with the
 * docker CLI's rules for the destination (an existing directory receives the source by its name; a missing
 * or file destination takes the source under its own name). Tars are written and read here with libarchive;
 * extraction refuses absolute names, `..` and writing through symlinks.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

#define GO_MODE_DIR (1u << 31)
#define GO_MODE_SYMLINK (1u << 27)

struct cp_flags {
    bool archive, follow;
};

/* "ctr:/path" -> container and path; a local path is absolute, relative with `.`, or has no ':'. */
static bool split_arg(const char *arg, char **ret_ctr, const char **ret_path)
{
    const char *c = strchr(arg, ':');
    if (arg[0] == '/' || arg[0] == '.' || c == NULL)
        return false;
    *ret_ctr = xstrndup(arg, (size_t)(c - arg));
    *ret_path = c + 1;
    return true;
}

static char *archive_url(const char *ctr, const char *path, const char *extra)
{
    cleanup_free char *base = cmd_path("containers", ctr, "archive");
    cleanup_free char *p = client_query_escape(path);
    /* freeze=1: isula's extension, the container is frozen during the copy (the guide's C-cp-04) */
    return xasprintf("%s?path=%s&freeze=1%s", base, p, extra != NULL ? extra : "");
}

static json_t *decode_stat(const char *b64)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct buf b = {0};
    unsigned int v = 0;
    int bits = 0;
    for (const char *p = b64 != NULL ? b64 : ""; *p != '\0' && *p != '='; p++) {
        const char *at = strchr(tbl, *p);
        if (at == NULL)
            break;
        v = (v << 6) | (unsigned int)(at - tbl);
        bits += 6;
        if (bits >= 8) {
            char ch = (char)((v >> (bits - 8)) & 0xff);
            buf_append(&b, &ch, 1);
            bits -= 8;
        }
    }
    if (b.len == 0)
        return NULL;
    {
        cleanup_free char *text = buf_steal(&b);
        return json_parse(text, strlen(text), NULL);
    }
}

/* HEAD: the container path's stat; NULL with *missing set when it does not exist. */
static json_t *remote_stat(const char *ctr, const char *path, bool *missing, struct isd_error **err)
{
    cleanup_free char *url = archive_url(ctr, path, NULL);
    struct http_request req = {.method = "HEAD", .path = url, .body_fd = -1};
    struct http_conn c;
    struct http_response resp;
    json_t *st;
    *missing = false;
    if (client_request(cmd_host(), &req, &c, &resp, err) < 0) {
        *missing = (*err)->code == ISD_ERR_NOT_FOUND; /* a missing container fails the upload that follows */
        return NULL;
    }
    st = decode_stat(http_response_header(&resp, "X-Docker-Container-Path-Stat"));
    http_conn_close(&c);
    http_response_free(&resp);
    if (st == NULL)
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "no path stat in the daemon's answer");
    return st;
}

static bool stat_is_dir(const json_t *st)
{
    return ((unsigned long long)json_get_int(st, "mode", 0) & GO_MODE_DIR) != 0;
}

static bool ends_with_slash(const char *p)
{
    size_t n = strlen(p);
    return n > 0 && p[n - 1] == '/';
}

static bool is_dot_form(const char *p)
{
    size_t n = strlen(p);
    return streq(p, ".") || (n >= 2 && streq(p + n - 2, "/."));
}

/* "name" or "name/rest" with name == from becomes "to" or "to/rest". */
static char *rebase(const char *entry, const char *from, const char *to)
{
    size_t n = strlen(from);
    if (to == NULL || strncmp(entry, from, n) != 0 || (entry[n] != '\0' && entry[n] != '/'))
        return xstrdup(entry);
    return xasprintf("%s%s", to, entry + n);
}

struct body_reader {
    struct http_conn *c;
    struct http_response *resp;
    struct isd_error **err;
    char buf[128 * 1024];
};

static la_ssize_t body_read_cb(struct archive *a, void *opaque, const void **out)
{
    struct body_reader *r = opaque;
    ssize_t n = http_read_body(r->c, r->resp, r->buf, sizeof(r->buf), r->err);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", (*r->err)->msg);
        return -1;
    }
    *out = r->buf;
    return n;
}

static int copy_entry_data(struct archive *in, struct archive *disk)
{
    const void *block;
    size_t len;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(in, &block, &len, &off)) == ARCHIVE_OK) {
        if (archive_write_data_block(disk, block, len, off) < ARCHIVE_WARN)
            return -1;
    }
    return r == ARCHIVE_EOF ? 0 : -1;
}

/* Removes name in dfd, a directory recursively, never following a symlink. */
static void remove_tree_at(int dfd, const char *name)
{
    int fd;
    DIR *d;
    struct dirent *de;
    if (unlinkat(dfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
        return;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    d = fd >= 0 ? fdopendir(fd) : NULL;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
            remove_tree_at(dirfd(d), de->d_name);
    }
    if (d != NULL)
        closedir(d);
    else if (fd >= 0)
        close(fd);
    unlinkat(dfd, name, AT_REMOVEDIR);
}

/* The guide's C-cp-03: an entry replaces what is there even when one is a directory and the other is not.
 * The parents are opened O_NOFOLLOW from the extraction directory, so nothing is removed through a symlink. */
static void clear_mismatch(const char *entry, bool is_dir)
{
    cleanup_free char *copy = xstrdup(entry);
    char *save = NULL, *base = NULL;
    int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    for (char *t = strtok_r(copy, "/", &save); t != NULL && fd >= 0; t = strtok_r(NULL, "/", &save)) {
        if (base != NULL) {
            int next = openat(fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            close(fd);
            fd = next;
        }
        base = streq(t, ".") ? NULL : t;
        if (streq(t, ".."))
            base = NULL, close(fd), fd = -1;
    }
    if (fd >= 0 && base != NULL && fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) != is_dir)
        remove_tree_at(fd, base);
    if (fd >= 0)
        close(fd);
}

static int write_entries(struct archive *in, struct archive *disk, const char *from, const char *to,
                         struct isd_error **err)
{
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        cleanup_free char *name = rebase(archive_entry_pathname(e), from, to);
        archive_entry_set_pathname(e, name);
        if (archive_entry_hardlink(e) != NULL) {
            cleanup_free char *link = rebase(archive_entry_hardlink(e), from, to);
            archive_entry_set_hardlink(e, link);
        }
        clear_mismatch(name, archive_entry_filetype(e) == AE_IFDIR && archive_entry_hardlink(e) == NULL);
        if (archive_write_header(disk, e) < ARCHIVE_WARN)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s", name, archive_error_string(disk));
        if (archive_entry_size(e) > 0 && copy_entry_data(in, disk) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s / %s", name, archive_error_string(in),
                                 archive_error_string(disk));
        if (archive_write_finish_entry(disk) < ARCHIVE_WARN)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s", name, archive_error_string(disk));
    }
    if (r != ARCHIVE_EOF)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s", archive_error_string(in));
    return 0;
}

/* Extracts the response's tar into dir, entries under `from` renamed to `to` (NULL: kept). */
static int extract_body(struct http_conn *c, struct http_response *resp, const char *dir, const char *from,
                        const char *to, bool owner, struct isd_error **err)
{
    struct body_reader *br = xcalloc(1, sizeof(*br));
    struct archive *in = archive_read_new(), *disk = archive_write_disk_new();
    int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                (owner ? ARCHIVE_EXTRACT_OWNER : 0);
    int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), r = -1;
    *br = (struct body_reader){.c = c, .resp = resp, .err = err};
    archive_read_support_format_tar(in);
    archive_write_disk_set_options(disk, flags);
    if (chdir(dir) < 0)
        isd_error_errno(err, "%s", dir);
    else if (archive_read_open(in, br, NULL, body_read_cb, NULL) != ARCHIVE_OK)
        isd_error_set(err, ISD_ERR_INVALID, 0, "%s", archive_error_string(in));
    else if (write_entries(in, disk, from, to, err) == 0 && archive_write_close(disk) == ARCHIVE_OK)
        r = 0;
    if (cwd >= 0 && fchdir(cwd) < 0)
        r = -1;
    if (cwd >= 0)
        close(cwd);
    archive_read_free(in);
    archive_write_free(disk);
    free(br);
    return r;
}

/* Where a copy out goes: into dst when it is an existing directory, else as dst (renamed). */
static int local_target(const char *dst, const json_t *st, char **ret_dir, char **ret_name, struct isd_error **err)
{
    struct stat s;
    cleanup_free char *d1 = xstrdup(dst), *d2 = xstrdup(dst);
    bool src_dir = stat_is_dir(st);
    if (stat(dst, &s) == 0 && S_ISDIR(s.st_mode)) {
        *ret_dir = xstrdup(dst);
        *ret_name = NULL;
        return 0;
    }
    /* an existing file is replaced, also by a directory (the guide's C-cp-03) */
    if (errno == ENOENT && ends_with_slash(dst) && !src_dir)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "destination directory %s does not exist", dst);
    *ret_dir = xstrdup(dirname(d1));
    *ret_name = xstrdup(basename(d2));
    return 0;
}

static int fetch(const char *ctr, const char *path, struct http_conn *c, struct http_response *resp, json_t **ret_st,
                 struct isd_error **err)
{
    cleanup_free char *url = archive_url(ctr, path, NULL);
    struct http_request req = {.method = "GET", .path = url, .body_fd = -1};
    if (client_request(cmd_host(), &req, c, resp, err) < 0)
        return -1;
    *ret_st = decode_stat(http_response_header(resp, "X-Docker-Container-Path-Stat"));
    if (*ret_st != NULL)
        return 0;
    http_conn_close(c);
    http_response_free(resp);
    return isd_error_set(err, ISD_ERR_INTERNAL, 0, "no path stat in the daemon's answer");
}

static int copy_from(const char *ctr, const char *src, const char *dst, const struct cp_flags *f,
                     struct isd_error **err)
{
    struct http_conn c;
    struct http_response resp;
    cleanup_json json_t *st = NULL;
    cleanup_free char *dir = NULL, *name = NULL, *from = NULL;
    char buf[65536];
    ssize_t n;
    int r = -1;
    if (fetch(ctr, src, &c, &resp, &st, err) < 0)
        return -1;
    if (f->follow && ((unsigned long long)json_get_int(st, "mode", 0) & GO_MODE_SYMLINK) &&
        json_get_str(st, "linkTarget") != NULL && json_get_str(st, "linkTarget")[0] != '\0') {
        cleanup_free char *target = xstrdup(json_get_str(st, "linkTarget"));
        cleanup_free char *orig = xstrdup(json_get_str(st, "name"));
        http_conn_close(&c);
        http_response_free(&resp);
        json_decref(st);
        st = NULL;
        if (fetch(ctr, target, &c, &resp, &st, err) < 0)
            return -1;
        (void)orig;
    }
    from = xstrdup(json_get_str(st, "name") ? json_get_str(st, "name") : "");
    if (streq(from, "/")) { /* the root's entries are "./x" */
        free(from);
        from = xstrdup(".");
    }
    if (streq(dst, "-")) {
        while ((n = http_read_body(&c, &resp, buf, sizeof(buf), err)) > 0 && fd_write_all(1, buf, (size_t)n) == 0)
            ;
        r = n == 0 ? 0 : -1;
    } else if (local_target(dst, st, &dir, &name, err) == 0) {
        r = extract_body(&c, &resp, dir, from, name, f->archive, err);
    }
    http_conn_close(&c);
    http_response_free(&resp);
    return r;
}

/* The child of copy_to: writes the tar of src (entries renamed from its base name to name) to fd. */
static int write_tar(const char *src, const char *name, bool follow, int fd)
{
    struct archive *disk = archive_read_disk_new(), *w = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    size_t plen = strlen(src);
    int r;
    if (follow)
        archive_read_disk_set_symlink_hybrid(disk);
    else
        archive_read_disk_set_symlink_physical(disk);
    archive_read_disk_set_standard_lookup(disk);
    archive_write_set_format_pax_restricted(w);
    if (archive_write_open_fd(w, fd) != ARCHIVE_OK || archive_read_disk_open(disk, src) != ARCHIVE_OK)
        return -1;
    while ((r = archive_read_next_header2(disk, e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *p = archive_entry_pathname(e);
        cleanup_free char *rel = xasprintf("%s%s", name, strlen(p) > plen ? p + plen : "");
        archive_read_disk_descend(disk);
        archive_entry_set_pathname(e, rel);
        if (archive_write_header(w, e) < ARCHIVE_WARN)
            return -1;
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
            char buf[128 * 1024];
            la_ssize_t n;
            while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
                if (archive_write_data(w, buf, (size_t)n) != n)
                    return -1;
        }
    }
    return r == ARCHIVE_EOF && archive_write_close(w) == ARCHIVE_OK ? 0 : -1;
}

static int put(const char *ctr, const char *dir, int fd, bool owner, struct isd_error **err)
{
    cleanup_free char *url = archive_url(ctr, dir, owner ? "&copyUIDGID=1" : NULL);
    struct http_request req = {.method = "PUT", .path = url, .content_type = "application/x-tar", .body_fd = fd};
    struct http_conn c;
    struct http_response resp;
    if (client_request(cmd_host(), &req, &c, &resp, err) < 0)
        return -1;
    http_conn_close(&c);
    http_response_free(&resp);
    return 0;
}

/* Tars src in a child process into a pipe the upload reads. */
static int upload_path(const char *ctr, const char *src, const char *dir, const char *name, const struct cp_flags *f,
                       struct isd_error **err)
{
    int p[2], status, r;
    pid_t pid;
    if (pipe2(p, O_CLOEXEC) < 0)
        return isd_error_errno(err, "pipe");
    pid = fork();
    if (pid < 0)
        return isd_error_errno(err, "fork");
    if (pid == 0) {
        close(p[0]);
        _exit(write_tar(src, name, f->follow, p[1]) == 0 ? 0 : 1);
    }
    close(p[1]);
    r = put(ctr, dir, p[0], f->archive, err);
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        r = isd_error_set(err, ISD_ERR_INVALID, 0, "cannot read %s", src);
    return r;
}

static int copy_to(const char *src, const char *ctr, const char *dst, const struct cp_flags *f, struct isd_error **err)
{
    struct stat s;
    bool missing;
    cleanup_json json_t *st = NULL;
    cleanup_free char *s1 = xstrdup(src), *d1 = xstrdup(dst), *d2 = xstrdup(dst);
    const char *name = is_dot_form(src) ? "." : basename(s1);
    if (streq(src, "-"))
        return put(ctr, dst, 0, f->archive, err);
    if ((f->follow ? stat(src, &s) : lstat(src, &s)) < 0)
        return isd_error_errno(err, "stat %s", src);
    st = remote_stat(ctr, dst, &missing, err);
    if (st != NULL && ((unsigned long long)json_get_int(st, "mode", 0) & GO_MODE_SYMLINK) &&
        json_get_str(st, "linkTarget")[0] != '\0') {
        cleanup_free char *t = xstrdup(json_get_str(st, "linkTarget"));
        json_decref(st);
        st = remote_stat(ctr, t, &missing, err);
    }
    if (st == NULL && !missing)
        return -1;
    if (st != NULL && stat_is_dir(st))
        return upload_path(ctr, src, dst, name, f, err);
    isd_error_free(*err);
    *err = NULL;
    /* an existing file dst is replaced, also by a directory (C-cp-03): the daemon's extraction clears it */
    if (st == NULL && ends_with_slash(dst) && !S_ISDIR(s.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "destination directory %s does not exist", dst);
    return upload_path(ctr, src, dirname(d1), basename(d2), f, err);
}

int cmd_cp(int argc, char **argv)
{
    struct cp_flags f = {0};
    const struct cli_option o[] = {
        {"archive", 'a', CLI_OPT_BOOL, &f.archive, "Archive mode (copy all uid/gid information)"},
        {"follow-link", 'L', CLI_OPT_BOOL, &f.follow, "Always follow symbol link in SRC_PATH"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *sctr = NULL, *dctr = NULL;
    const char *spath = NULL, *dpath = NULL;
    int rc;
    if (cmd_parse("cp", o, argc, argv, 0, 2, &pos, &rc) < 0)
        return rc;
    if (pos[2] != NULL) {
        fprintf(stderr, "\"isula cp\" requires exactly 2 arguments.\n");
        return 1;
    }
    split_arg(pos[0], &sctr, &spath);
    split_arg(pos[1], &dctr, &dpath);
    if (sctr != NULL && dctr != NULL) {
        fprintf(stderr, "Error: copying between containers is not supported\n");
        return 1;
    }
    if (sctr == NULL && dctr == NULL) {
        fprintf(stderr, "Error: must specify at least one container source\n");
        return 1;
    }
    rc = sctr != NULL ? copy_from(sctr, spath, pos[1], &f, &err) : copy_to(pos[0], dctr, dpath, &f, &err);
    if (rc < 0) {
        cmd_print_error(err);
        return 1;
    }
    return 0;
}
