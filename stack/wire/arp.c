/* ARP for IPv4 over Ethernet, RFC 826 (see wire/arp.h). */
#include "wire/arp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/ethernet.h"

tern_err tern_arp_parse(const uint8_t *buf, size_t len, struct tern_arp_repr *out) {
    /* The fixed part first: it says how long the addresses are. */
    if (len < 8) {
        return TERN_ERR_TRUNCATED;
    }
    if (tern_get_u16(buf) != TERN_ARP_HTYPE_ETHERNET ||
        tern_get_u16(buf + 2) != TERN_ETHERTYPE_IPV4 || buf[4] != 6 || buf[5] != 4) {
        return TERN_ERR_UNSUPPORTED;
    }
    if (len < TERN_ARP_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    out->op = tern_get_u16(buf + 6);
    memcpy(out->sha.b, buf + 8, 6);
    out->spa = tern_addr_v4_from_bytes(buf + 14);
    memcpy(out->tha.b, buf + 18, 6);
    out->tpa = tern_addr_v4_from_bytes(buf + 24);
    return TERN_OK;
}

tern_err tern_arp_emit(const struct tern_arp_repr *r, uint8_t *buf, size_t cap, size_t *written) {
    if (r->spa.family != TERN_AF_INET || r->tpa.family != TERN_AF_INET) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (cap < TERN_ARP_LEN) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    tern_put_u16(buf, TERN_ARP_HTYPE_ETHERNET);
    tern_put_u16(buf + 2, TERN_ETHERTYPE_IPV4);
    buf[4] = 6;
    buf[5] = 4;
    tern_put_u16(buf + 6, r->op);
    memcpy(buf + 8, r->sha.b, 6);
    memcpy(buf + 14, r->spa.bytes, 4);
    memcpy(buf + 18, r->tha.b, 6);
    memcpy(buf + 24, r->tpa.bytes, 4);
    *written = TERN_ARP_LEN;
    return TERN_OK;
}
