/* Ethernet II with an optional 802.1Q tag (RFC 894; see wire/ethernet.h). */
#include "wire/ethernet.h"

#include <string.h>

#include "wire/bytes.h"

tern_err tern_eth_parse(const uint8_t *buf, size_t len, struct tern_eth_repr *out) {
    if (len < TERN_ETH_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    memcpy(out->dst.b, buf, 6);
    memcpy(out->src.b, buf + 6, 6);
    uint16_t type = tern_get_u16(buf + 12);
    size_t hlen = TERN_ETH_HDR_LEN;
    out->has_vlan = false;
    out->vlan_pcp = 0;
    out->vlan_dei = false;
    out->vlan_id = 0;
    if (type == TERN_ETHERTYPE_VLAN) {
        if (len < TERN_ETH_VLAN_HDR_LEN) {
            return TERN_ERR_TRUNCATED;
        }
        uint16_t tci = tern_get_u16(buf + 14);
        out->has_vlan = true;
        out->vlan_pcp = (uint8_t)(tci >> 13);
        out->vlan_dei = (tci >> 12) & 1;
        out->vlan_id = tci & 0x0fff;
        type = tern_get_u16(buf + 16);
        hlen = TERN_ETH_VLAN_HDR_LEN;
        if (type == TERN_ETHERTYPE_VLAN) {
            return TERN_ERR_UNSUPPORTED;
        }
    }
    /* RFC 894 frames carry a type; IEEE 802.3 frames carry a length here. */
    if (type < TERN_ETH_MIN_TYPE) {
        return TERN_ERR_UNSUPPORTED;
    }
    out->ethertype = type;
    out->payload = buf + hlen;
    out->payload_len = len - hlen;
    return TERN_OK;
}

size_t tern_eth_header_len(const struct tern_eth_repr *r) {
    return r->has_vlan ? TERN_ETH_VLAN_HDR_LEN : TERN_ETH_HDR_LEN;
}

tern_err tern_eth_emit(const struct tern_eth_repr *r, uint8_t *buf, size_t cap, size_t *written) {
    size_t hlen = tern_eth_header_len(r);
    if (cap < hlen || cap - hlen < r->payload_len) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && r->payload_len > 0 && r->payload != buf + hlen) {
        memmove(buf + hlen, r->payload, r->payload_len);
    }
    memcpy(buf, r->dst.b, 6);
    memcpy(buf + 6, r->src.b, 6);
    if (r->has_vlan) {
        uint16_t tci = (uint16_t)((r->vlan_pcp & 7u) << 13 | (r->vlan_dei ? 1u : 0u) << 12 |
                                  (r->vlan_id & 0x0fffu));
        tern_put_u16(buf + 12, TERN_ETHERTYPE_VLAN);
        tern_put_u16(buf + 14, tci);
        tern_put_u16(buf + 16, r->ethertype);
    } else {
        tern_put_u16(buf + 12, r->ethertype);
    }
    *written = hlen + r->payload_len;
    return TERN_OK;
}

tern_err tern_eth_pad(uint8_t *buf, size_t len, size_t cap, size_t *out_len) {
    if (len >= TERN_ETH_MIN_FRAME) {
        *out_len = len;
        return TERN_OK;
    }
    if (cap < TERN_ETH_MIN_FRAME) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    memset(buf + len, 0, TERN_ETH_MIN_FRAME - len);
    *out_len = TERN_ETH_MIN_FRAME;
    return TERN_OK;
}
