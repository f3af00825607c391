/*
 * One error scheme: a fallible function returns 0/-1 or a pointer/NULL and takes `struct isd_error **err`
 * last. The code says what kind of failure it is; errnum only ever holds an errno (0 when none). Each code
 * maps once, in one table (error.c), to an HTTP status, a gRPC status, a CLI exit code and a wire name
 * (the `code` field of REST error bodies, read back by the client). Not shared between threads.
 */
#ifndef ISD_COMMON_ERROR_H
#define ISD_COMMON_ERROR_H

#include <stdbool.h>

enum isd_error_code {
    ISD_ERR_INTERNAL = 1,      /* 500 */
    ISD_ERR_INVALID,           /* 400: bad request or option value */
    ISD_ERR_NOT_FOUND,         /* 404 */
    ISD_ERR_CONFLICT,          /* 409: name in use, container running, ... */
    ISD_ERR_NOT_MODIFIED,      /* 304: already started / stopped */
    ISD_ERR_TOO_LARGE,         /* 413 */
    ISD_ERR_UNAVAILABLE,       /* 503: a dependency (registry, runtime) is unavailable for now */
    ISD_ERR_UNAUTHORIZED,      /* 401: missing or wrong credentials (registry login, pull) */
    ISD_ERR_PERMISSION,        /* 403: EACCES/EPERM, forbidden operation */
    ISD_ERR_NOT_EXECUTABLE,    /* 400, exit 126: the container's command cannot be run */
    ISD_ERR_COMMAND_NOT_FOUND, /* 400, exit 127: the container's command does not exist */
    ISD_ERR_NOT_IMPLEMENTED,   /* 501 */
    ISD_ERR_NO_SPACE,          /* 507: ENOSPC/EDQUOT */
    ISD_ERR_UNREACHABLE,       /* 502: the peer (the daemon, for the client) could not be reached */
    ISD_ERR_TIMEOUT,           /* 504: the operation's deadline passed (CRI ExecSync timeout) */
};

struct isd_error {
    enum isd_error_code code;
    int errnum;  /* the errno behind the error, 0 when none */
    bool remote; /* reported by the peer (the daemon's answer, for the client); msg is its message */
    char *msg;
};

/* Sets *err (when err != NULL and *err is still NULL) and returns -1 for convenient `return isd_error_set(...)`. */
int isd_error_set(struct isd_error **err, enum isd_error_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Like isd_error_set with the code isd_error_code_of_errno(errno) and ": strerror(errno)" appended. */
int isd_error_errno(struct isd_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes context to an existing message: "ctx: old". Returns -1. */
int isd_error_wrap(struct isd_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void isd_error_free(struct isd_error *e);
void cleanup_isd_errorp(struct isd_error **e);
#define cleanup_error __attribute__((cleanup(cleanup_isd_errorp)))

/* The code for a failure whose cause is errnum: ENOENT not found, EACCES/EPERM permission, EEXIST conflict, ... */
enum isd_error_code isd_error_code_of_errno(int errnum);

/* The one table: HTTP status, gRPC status code, exit code of the CLI, wire name. NULL e is INTERNAL. */
int isd_error_http_status(const struct isd_error *e);
int isd_error_code_http_status(enum isd_error_code code);
int isd_error_code_grpc_status(enum isd_error_code code);
/* 125 (the engine failed), 126 (command cannot be run), 127 (command not found), as docker run does. */
int isd_error_code_exit_code(enum isd_error_code code);
const char *isd_error_code_name(enum isd_error_code code);
/* The code of a wire name; 0 when unknown. */
enum isd_error_code isd_error_code_from_name(const char *name);
/* For peers that send no code: the code of an HTTP status (INTERNAL when unknown). */
enum isd_error_code isd_error_from_http_status(int status);

#endif
