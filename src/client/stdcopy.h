/*
 * Decoder of Docker's multiplexed stream framing ("stdcopy"): each frame is an 8-byte header
 * [stream u8][0 0 0][big-endian u32 length] followed by the payload. Incremental: feed any slices.
 * A decoder is owned by one thread.
 */
#ifndef ISD_CLIENT_STDCOPY_H
#define ISD_CLIENT_STDCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { STDCOPY_STDIN = 0, STDCOPY_STDOUT = 1, STDCOPY_STDERR = 2, STDCOPY_SYSTEMERR = 3 };

struct stdcopy {
    unsigned char hdr[8];
    size_t hdr_len;
    uint32_t left;
    int stream;
    bool framed; /* a valid frame was seen */
    bool raw;    /* the stream did not start with a frame header: passed through as STDCOPY_SYSTEMERR */
};

/* Called for each payload piece; return -1 to stop decoding. */
typedef int (*stdcopy_sink)(int stream, const char *data, size_t len, void *ctx);

/*
 * Returns 0, or -1 when the sink stopped or a header is malformed (unknown stream type, non-zero padding).
 * A stream whose very first bytes are not a frame header (some daemons write a start error unframed) is
 * passed through unchanged as STDCOPY_SYSTEMERR.
 */
int stdcopy_feed(struct stdcopy *d, const char *data, size_t len, stdcopy_sink sink, void *ctx);
/* Encodes one frame header into out[8]. */
void stdcopy_header(unsigned char out[8], int stream, uint32_t len);

#endif
