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
    isd_error_set(err, ISD_ERR_INTERNAL, saved, "%s: %s", m, strerror(saved));
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

static const struct {
    enum isd_error_code code;
    int http;
} http_map[] = {
    {ISD_ERR_INTERNAL, 500},     {ISD_ERR_INVALID, 400},   {ISD_ERR_NOT_FOUND, 404},   {ISD_ERR_CONFLICT, 409},
    {ISD_ERR_NOT_MODIFIED, 304}, {ISD_ERR_TOO_LARGE, 413}, {ISD_ERR_UNAVAILABLE, 503},
};

int isd_error_http_status(const struct isd_error *e)
{
    for (size_t i = 0; e != NULL && i < ARRAY_SIZE(http_map); i++)
        if (http_map[i].code == e->code)
            return http_map[i].http;
    return 500;
}

enum isd_error_code isd_error_from_http_status(int status)
{
    for (size_t i = 0; i < ARRAY_SIZE(http_map); i++)
        if (http_map[i].http == status)
            return http_map[i].code;
    return ISD_ERR_INTERNAL;
}
