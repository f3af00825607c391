#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int isd_error_set(struct isd_error **err, enum isd_error_code code, int errnum, const char *fmt, ...)
{
    va_list ap;
    struct isd_error *e;
    if (err == NULL || *err != NULL)
        return -1;
    e = xcalloc(1, sizeof(*e));
    e->code = code;
    e->errnum = errnum;
    va_start(ap, fmt);
    e->msg = xvasprintf(fmt, ap);
    va_end(ap);
    *err = e;
    return -1;
}

int isd_error_errno(struct isd_error **err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    char *m;
    if (err == NULL || *err != NULL)
        return -1;
    va_start(ap, fmt);
    m = xvasprintf(fmt, ap);
    va_end(ap);
    isd_error_set(err, isd_error_code_of_errno(saved), saved, "%s: %s", m, strerror(saved));
    free(m);
    errno = saved;
    return -1;
}

int isd_error_wrap(struct isd_error **err, const char *fmt, ...)
{
    va_list ap;
    char *ctx, *m;
    if (err == NULL || *err == NULL)
        return -1;
    va_start(ap, fmt);
    ctx = xvasprintf(fmt, ap);
    va_end(ap);
    m = xasprintf("%s: %s", ctx, (*err)->msg);
    free(ctx);
    free((*err)->msg);
    (*err)->msg = m;
    return -1;
}

void isd_error_free(struct isd_error *e)
{
    if (e == NULL)
        return;
    free(e->msg);
    free(e);
}

void cleanup_isd_errorp(struct isd_error **e)
{
    isd_error_free(*e);
}

/* gRPC status codes (grpc/status.h), named here so common/ does not depend on gRPC. */
enum {
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
    GRPC_UNAUTHENTICATED = 16,
};

/* The one table. The first row of an HTTP status is the code a bare status maps back to. */
static const struct {
    enum isd_error_code code;
    const char *name;
    int http;
    int grpc;
    int exit_code;
} code_map[] = {
    {ISD_ERR_INTERNAL, "internal", 500, GRPC_INTERNAL, 125},
    {ISD_ERR_INVALID, "invalid", 400, GRPC_INVALID_ARGUMENT, 125},
    {ISD_ERR_NOT_FOUND, "not_found", 404, GRPC_NOT_FOUND, 125},
    {ISD_ERR_CONFLICT, "conflict", 409, GRPC_ALREADY_EXISTS, 125},
    {ISD_ERR_NOT_MODIFIED, "not_modified", 304, GRPC_FAILED_PRECONDITION, 125},
    {ISD_ERR_TOO_LARGE, "too_large", 413, GRPC_RESOURCE_EXHAUSTED, 125},
    {ISD_ERR_UNAVAILABLE, "unavailable", 503, GRPC_UNAVAILABLE, 125},
    {ISD_ERR_UNAUTHORIZED, "unauthorized", 401, GRPC_UNAUTHENTICATED, 125},
    {ISD_ERR_PERMISSION, "permission", 403, GRPC_PERMISSION_DENIED, 125},
    {ISD_ERR_NOT_EXECUTABLE, "not_executable", 400, GRPC_INVALID_ARGUMENT, 126},
    {ISD_ERR_COMMAND_NOT_FOUND, "command_not_found", 400, GRPC_INVALID_ARGUMENT, 127},
    {ISD_ERR_NOT_IMPLEMENTED, "not_implemented", 501, GRPC_UNIMPLEMENTED, 125},
    {ISD_ERR_NO_SPACE, "no_space", 507, GRPC_RESOURCE_EXHAUSTED, 125},
    {ISD_ERR_UNREACHABLE, "unreachable", 502, GRPC_UNAVAILABLE, 125},
    {ISD_ERR_TIMEOUT, "timeout", 504, GRPC_DEADLINE_EXCEEDED, 125},
};

static size_t code_row(enum isd_error_code code)
{
    for (size_t i = 0; i < ARRAY_SIZE(code_map); i++)
        if (code_map[i].code == code)
            return i;
    return 0; /* INTERNAL */
}

int isd_error_code_http_status(enum isd_error_code code)
{
    return code_map[code_row(code)].http;
}

int isd_error_http_status(const struct isd_error *e)
{
    return isd_error_code_http_status(e != NULL ? e->code : ISD_ERR_INTERNAL);
}

int isd_error_code_grpc_status(enum isd_error_code code)
{
    return code_map[code_row(code)].grpc;
}

int isd_error_code_exit_code(enum isd_error_code code)
{
    return code_map[code_row(code)].exit_code;
}

const char *isd_error_code_name(enum isd_error_code code)
{
    return code_map[code_row(code)].name;
}

enum isd_error_code isd_error_code_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < ARRAY_SIZE(code_map); i++)
        if (strcmp(code_map[i].name, name) == 0)
            return code_map[i].code;
    return 0;
}

enum isd_error_code isd_error_from_http_status(int status)
{
    for (size_t i = 0; i < ARRAY_SIZE(code_map); i++)
        if (code_map[i].http == status)
            return code_map[i].code;
    return ISD_ERR_INTERNAL;
}

enum isd_error_code isd_error_code_of_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
    case ENOTDIR:
        return ISD_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return ISD_ERR_PERMISSION;
    case EEXIST:
    case EBUSY:
    case ENOTEMPTY:
        return ISD_ERR_CONFLICT;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EISDIR:
        return ISD_ERR_INVALID;
    case ENOSPC:
    case EDQUOT:
        return ISD_ERR_NO_SPACE;
    case E2BIG:
    case EFBIG:
        return ISD_ERR_TOO_LARGE;
    case ENOSYS:
    case ENOTSUP:
        return ISD_ERR_NOT_IMPLEMENTED;
    case EAGAIN:
    case ETIMEDOUT:
    case ECONNREFUSED:
        return ISD_ERR_UNAVAILABLE;
    default:
        return ISD_ERR_INTERNAL;
    }
}
