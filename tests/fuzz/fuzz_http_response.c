/* The CLI's HTTP/1.1 response parser (head and body: Content-Length, chunked, until close). */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/http.h"
#include "common/error.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    struct http_conn c;
    struct http_response resp = {0};
    struct isd_error *err = NULL;
    size_t len = 0;
    if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    /* the whole input fits the socket buffer; closing the writer gives the parser its EOF */
    if (write(sv[1], data, size) != (ssize_t)size) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    close(sv[1]);
    http_conn_init(&c, sv[0]);
    if (http_read_response_head(&c, &resp, &err) == 0)
        free(http_read_body_all(&c, &resp, 1 << 20, &len, &err));
    http_response_free(&resp);
    isd_error_free(err);
    http_conn_close(&c);
    return 0;
}
