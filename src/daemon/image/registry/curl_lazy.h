/*
 * libcurl, loaded on first use. The daemon maps libcurl and its dependencies (TLS, Kerberos, LDAP, ssh, ...)
 * only once a registry is contacted, which keeps an idle isulad about 1.5 MiB smaller. Include this header
 * instead of <curl/curl.h>: the curl_* calls below go through a table filled by dlopen/dlsym. When libcurl
 * cannot be loaded, curl_easy_init() returns NULL and curl_lazy_error() says why. Thread-safe.
 */
#ifndef ISD_DAEMON_IMAGE_REGISTRY_CURL_LAZY_H
#define ISD_DAEMON_IMAGE_REGISTRY_CURL_LAZY_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct curl_api {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    char *(*easy_escape)(CURL *, const char *, int);
    void (*free)(void *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

/* The loaded table (stubs when libcurl is missing); loads it on the first call. */
const struct curl_api *curl_api(void);
/* Why libcurl could not be loaded, or NULL. */
const char *curl_lazy_error(void);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init() (curl_api()->easy_init())
#define curl_easy_setopt(...) (curl_api()->easy_setopt(__VA_ARGS__))
#define curl_easy_getinfo(...) (curl_api()->easy_getinfo(__VA_ARGS__))
#define curl_easy_perform(e) (curl_api()->easy_perform(e))
#define curl_easy_cleanup(e) (curl_api()->easy_cleanup(e))
#define curl_easy_strerror(c) (curl_api()->easy_strerror(c))
#define curl_easy_escape(e, s, n) (curl_api()->easy_escape((e), (s), (n)))
#define curl_free(p) (curl_api()->free(p))
#define curl_slist_append(l, s) (curl_api()->slist_append((l), (s)))
#define curl_slist_free_all(l) (curl_api()->slist_free_all(l))

#endif
