/* Docker stdcopy frame decoding; see stdcopy.h. Stateless apart from the decoder struct. */
#include "client/stdcopy.h"

#include <string.h>

void stdcopy_header(unsigned char out[8], int stream, uint32_t len)
{
    out[0] = (unsigned char)stream;
    out[1] = out[2] = out[3] = 0;
    out[4] = (unsigned char)(len >> 24);
    out[5] = (unsigned char)(len >> 16);
    out[6] = (unsigned char)(len >> 8);
    out[7] = (unsigned char)len;
}

int stdcopy_feed(struct stdcopy *d, const char *data, size_t len, stdcopy_sink sink, void *ctx)
{
    if (d->raw)
        return len > 0 ? sink(STDCOPY_SYSTEMERR, data, len, ctx) : 0;
    while (len > 0) {
        if (d->left == 0) {
            size_t k = sizeof(d->hdr) - d->hdr_len;
            if (k > len)
                k = len;
            memcpy(d->hdr + d->hdr_len, data, k);
            d->hdr_len += k;
            data += k;
            len -= k;
            if (d->hdr_len < sizeof(d->hdr))
                return 0;
            d->hdr_len = 0;
            if (d->hdr[0] > STDCOPY_SYSTEMERR || d->hdr[1] != 0 || d->hdr[2] != 0 || d->hdr[3] != 0) {
                if (d->framed)
                    return -1;
                d->raw = true;
                if (sink(STDCOPY_SYSTEMERR, (const char *)d->hdr, sizeof(d->hdr), ctx) < 0)
                    return -1;
                return len > 0 ? sink(STDCOPY_SYSTEMERR, data, len, ctx) : 0;
            }
            d->framed = true;
            d->stream = d->hdr[0];
            d->left =
                ((uint32_t)d->hdr[4] << 24) | ((uint32_t)d->hdr[5] << 16) | ((uint32_t)d->hdr[6] << 8) | d->hdr[7];
            continue;
        }
        size_t k = len < d->left ? len : d->left;
        if (sink(d->stream, data, k, ctx) < 0)
            return -1;
        d->left -= (uint32_t)k;
        data += k;
        len -= k;
    }
    return 0;
}
