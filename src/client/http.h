/*
 * A small HTTP/1.1 client over one connected socket (unix or tcp): request heads with a JSON body or a
 * chunked upload from a file descriptor, response heads, bodies delimited by Content-Length, chunked
 * encoding or connection close, and raw access to the connection after a hijack (101 Switching
 * Protocols). One struct http_conn belongs to one thread; nothing here is shared.
 */
#ifndef ISD_CLIENT_HTTP_H
#define ISD_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

#define HTTP_MAX_HEAD 65536

struct client_tls;

struct http_conn {
    int fd;
    struct client_tls *tls; /* a tcp host with --tls/--tlsverify (client/tls.h) */
    char buf[16384];
    size_t off, len; /* unread bytes are buf[off, len) */
};

struct http_request {
    const char *method;
    const char *path; /* with query string */
    const char *content_type;
    const char *body; /* NULL: no body unless body_fd >= 0 */
    size_t body_len;
    int body_fd;  /* >= 0: chunked upload from this fd until EOF */
    bool upgrade; /* ask for a hijacked stream (Upgrade: tcp) */
};

struct http_response {
    int status;
    char **headers;        /* "Name: value" strings */
    long long content_len; /* -1 when unknown */
    bool chunked;
    bool upgraded; /* 101, or a raw stream: the body is the rest of the connection */
    long long chunk_left;
    bool eof;
};

/* Connects to "unix:///path", "tcp://host:port" or a bare "/path"; ret_errno gets the failing errno. */
int http_conn_open(struct http_conn *c, const char *host, struct isd_error **err);
/* Wraps an already connected fd (the conn owns it). */
void http_conn_init(struct http_conn *c, int fd);
void http_conn_close(struct http_conn *c);

int http_send_request(struct http_conn *c, const struct http_request *req, struct isd_error **err);
int http_read_response_head(struct http_conn *c, struct http_response *resp, struct isd_error **err);
/* Case-insensitive header lookup; borrowed pointer to the value or NULL. */
const char *http_response_header(const struct http_response *resp, const char *name);
void http_response_free(struct http_response *resp);

/* Reads up to n body bytes; 0 at the end of the body, -1 on error. */
ssize_t http_read_body(struct http_conn *c, struct http_response *resp, void *dst, size_t n, struct isd_error **err);
/* Reads the whole body (bounded by max); NUL-terminated. */
char *http_read_body_all(struct http_conn *c, struct http_response *resp, size_t max, size_t *ret_len,
                         struct isd_error **err);
/* Raw read from the connection: buffered bytes first, then the socket. 0 at EOF, -1 with errno set. */
ssize_t http_conn_read(struct http_conn *c, void *dst, size_t n);
/* Writes everything; -1 with errno set. */
int http_conn_write_all(struct http_conn *c, const void *data, size_t n);
bool http_conn_has_buffered(const struct http_conn *c);
/* Sends what it can without blocking (blocks over TLS); -1 with errno (EAGAIN: nothing sent). */
ssize_t http_conn_send_some(struct http_conn *c, const void *data, size_t n);
/* Ends the write side (a TLS close_notify, then nothing more is sent); reading goes on. */
void http_conn_close_write(struct http_conn *c);

#endif
