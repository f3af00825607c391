/*
 * One error scheme: a fallible function returns 0/-1 or a pointer/NULL and takes `struct isd_error **err`
 * last. The code maps once (here) to an HTTP status and a CLI exit code. Not shared between threads.
 */
#ifndef ISD_COMMON_ERROR_H
#define ISD_COMMON_ERROR_H

enum isd_error_code {
    ISD_ERR_INTERNAL = 1, /* 500 */
    ISD_ERR_INVALID,      /* 400: bad request or option value */
    ISD_ERR_NOT_FOUND,    /* 404 */
    ISD_ERR_CONFLICT,     /* 409: name in use, container running, ... */
    ISD_ERR_NOT_MODIFIED, /* 304: already started / stopped */
    ISD_ERR_TOO_LARGE,    /* 413 */
    ISD_ERR_UNAVAILABLE,  /* 503 */
};

struct isd_error {
    enum isd_error_code code;
    int errnum;
    char *msg;
};

/* Sets *err (when err != NULL and *err is still NULL) and returns -1 for convenient `return isd_error_set(...)`. */
int isd_error_set(struct isd_error **err, enum isd_error_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Like isd_error_set with ISD_ERR_INTERNAL and the current errno appended as ": strerror". */
int isd_error_errno(struct isd_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes context to an existing message: "ctx: old". Returns -1. */
int isd_error_wrap(struct isd_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void isd_error_free(struct isd_error *e);
void cleanup_isd_errorp(struct isd_error **e);
#define cleanup_error __attribute__((cleanup(cleanup_isd_errorp)))

int isd_error_http_status(const struct isd_error *e);
enum isd_error_code isd_error_from_http_status(int status);

#endif
