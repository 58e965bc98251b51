/* DHCPv4, RFC 2131 / RFC 2132 (see wire/dhcpv4.h). */
#include "wire/dhcpv4.h"

#include <string.h>

#include "wire/bytes.h"

#define OFF_XID 4
#define OFF_SECS 8
#define OFF_FLAGS 10
#define OFF_CIADDR 12
#define OFF_YIADDR 16
#define OFF_SIADDR 20
#define OFF_GIADDR 24
#define OFF_CHADDR 28
#define OFF_COOKIE 236

/* Addresses of a list option (router, DNS): a non-zero multiple of 4
 * (RFC 2132 sections 3.5 and 3.8: "minimum length ... is 4 octets, and the
 * length MUST always be a multiple of 4"). */
static tern_err take_list(const uint8_t *v, uint8_t n, uint32_t *dst, uint8_t max, uint8_t *count) {
    if (n == 0 || n % 4 != 0) {
        return TERN_ERR_MALFORMED;
    }
    uint8_t k = 0;
    for (uint8_t i = 0; i < n / 4 && k < max; i++) {
        dst[k++] = tern_get_u32(v + 4 * i);
    }
    *count = k;
    return TERN_OK;
}

/* One known option: check its length against its definition, store it. */
static tern_err take_option(struct tern_dhcpv4_repr *out, uint8_t code, const uint8_t *v,
                            uint8_t n) {
    uint32_t bit = 0;
    tern_err err = TERN_OK;
    switch (code) {
    case TERN_DHCP_OPT_SUBNET_MASK:
    case TERN_DHCP_OPT_REQUESTED_IP:
    case TERN_DHCP_OPT_LEASE_TIME:
    case TERN_DHCP_OPT_SERVER_ID:
    case TERN_DHCP_OPT_T1:
    case TERN_DHCP_OPT_T2: {
        if (n != 4) {
            return TERN_ERR_MALFORMED;
        }
        uint32_t x = tern_get_u32(v);
        uint32_t *slot = code == TERN_DHCP_OPT_SUBNET_MASK    ? &out->subnet_mask
                         : code == TERN_DHCP_OPT_REQUESTED_IP ? &out->requested_ip
                         : code == TERN_DHCP_OPT_LEASE_TIME   ? &out->lease_time
                         : code == TERN_DHCP_OPT_SERVER_ID    ? &out->server_id
                         : code == TERN_DHCP_OPT_T1           ? &out->t1
                                                              : &out->t2;
        bit = code == TERN_DHCP_OPT_SUBNET_MASK    ? TERN_DHCP_HAS_SUBNET_MASK
              : code == TERN_DHCP_OPT_REQUESTED_IP ? TERN_DHCP_HAS_REQUESTED_IP
              : code == TERN_DHCP_OPT_LEASE_TIME   ? TERN_DHCP_HAS_LEASE_TIME
              : code == TERN_DHCP_OPT_SERVER_ID    ? TERN_DHCP_HAS_SERVER_ID
              : code == TERN_DHCP_OPT_T1           ? TERN_DHCP_HAS_T1
                                                   : TERN_DHCP_HAS_T2;
        if (out->present & bit) {
            return TERN_OK; /* first instance wins */
        }
        *slot = x;
        break;
    }
    case TERN_DHCP_OPT_MTU:
    case TERN_DHCP_OPT_MAX_SIZE:
        if (n != 2) {
            return TERN_ERR_MALFORMED;
        }
        bit = code == TERN_DHCP_OPT_MTU ? TERN_DHCP_HAS_MTU : TERN_DHCP_HAS_MAX_SIZE;
        if (out->present & bit) {
            return TERN_OK;
        }
        if (code == TERN_DHCP_OPT_MTU) {
            /* RFC 2132 section 5.1: "The minimum legal value for the MTU is 68." */
            out->mtu = tern_get_u16(v);
            if (out->mtu < 68) {
                return TERN_ERR_MALFORMED;
            }
        } else {
            /* RFC 2132 section 9.10: "The minimum legal value is 576 octets." */
            out->max_size = tern_get_u16(v);
            if (out->max_size < 576) {
                return TERN_ERR_MALFORMED;
            }
        }
        break;
    case TERN_DHCP_OPT_MSG_TYPE:
        if (n != 1 || v[0] < TERN_DHCP_DISCOVER || v[0] > TERN_DHCP_INFORM) {
            return TERN_ERR_MALFORMED;
        }
        if (out->msg_type == 0) {
            out->msg_type = v[0];
        }
        return TERN_OK;
    case TERN_DHCP_OPT_ROUTER:
        if (out->present & TERN_DHCP_HAS_ROUTER) {
            return TERN_OK;
        }
        err = take_list(v, n, out->routers, TERN_DHCP_MAX_ROUTERS, &out->n_routers);
        bit = TERN_DHCP_HAS_ROUTER;
        break;
    case TERN_DHCP_OPT_DNS:
        if (out->present & TERN_DHCP_HAS_DNS) {
            return TERN_OK;
        }
        err = take_list(v, n, out->dns, TERN_DHCP_MAX_DNS, &out->n_dns);
        bit = TERN_DHCP_HAS_DNS;
        break;
    case TERN_DHCP_OPT_HOSTNAME:
    case TERN_DHCP_OPT_PARAM_LIST:
    case TERN_DHCP_OPT_MESSAGE:
    case TERN_DHCP_OPT_CLIENT_ID: {
        /* RFC 2132: host name (3.14), parameter list (9.8), message (9.9)
         * have "minimum length ... 1"; client identifier (9.14) "minimum
         * length is 2". */
        uint8_t min = code == TERN_DHCP_OPT_CLIENT_ID ? 2 : 1;
        if (n < min) {
            return TERN_ERR_MALFORMED;
        }
        const uint8_t **p = code == TERN_DHCP_OPT_HOSTNAME     ? &out->hostname
                            : code == TERN_DHCP_OPT_PARAM_LIST ? &out->param_list
                            : code == TERN_DHCP_OPT_MESSAGE    ? &out->message
                                                               : &out->client_id;
        uint8_t *pl = code == TERN_DHCP_OPT_HOSTNAME     ? &out->hostname_len
                      : code == TERN_DHCP_OPT_PARAM_LIST ? &out->param_list_len
                      : code == TERN_DHCP_OPT_MESSAGE    ? &out->message_len
                                                         : &out->client_id_len;
        bit = code == TERN_DHCP_OPT_HOSTNAME     ? TERN_DHCP_HAS_HOSTNAME
              : code == TERN_DHCP_OPT_PARAM_LIST ? TERN_DHCP_HAS_PARAM_LIST
              : code == TERN_DHCP_OPT_MESSAGE    ? TERN_DHCP_HAS_MESSAGE
                                                 : TERN_DHCP_HAS_CLIENT_ID;
        if (out->present & bit) {
            return TERN_OK;
        }
        *p = v;
        *pl = n;
        break;
    }
    default:
        return TERN_OK; /* not ours: skipped by its length */
    }
    if (err == TERN_OK) {
        out->present |= bit;
    }
    return err;
}

tern_err tern_dhcpv4_parse(const uint8_t *buf, size_t len, struct tern_dhcpv4_repr *out) {
    memset(out, 0, sizeof *out);
    if (len < TERN_DHCP_MIN_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (tern_get_u32(buf + OFF_COOKIE) != TERN_DHCP_MAGIC) {
        return TERN_ERR_UNSUPPORTED;
    }
    out->op = buf[0];
    out->htype = buf[1];
    out->hlen = buf[2];
    out->hops = buf[3];
    if ((out->op != TERN_DHCP_OP_REQUEST && out->op != TERN_DHCP_OP_REPLY) || out->hlen > 16) {
        return TERN_ERR_MALFORMED;
    }
    out->xid = tern_get_u32(buf + OFF_XID);
    out->secs = tern_get_u16(buf + OFF_SECS);
    out->flags = tern_get_u16(buf + OFF_FLAGS);
    out->ciaddr = tern_get_u32(buf + OFF_CIADDR);
    out->yiaddr = tern_get_u32(buf + OFF_YIADDR);
    out->siaddr = tern_get_u32(buf + OFF_SIADDR);
    out->giaddr = tern_get_u32(buf + OFF_GIADDR);
    memcpy(out->chaddr, buf + OFF_CHADDR, 16);

    /* Each step consumes at least one byte, so the walk is bounded by len. */
    size_t i = TERN_DHCP_MIN_LEN;
    while (i < len) {
        uint8_t code = buf[i];
        if (code == TERN_DHCP_OPT_END) {
            return TERN_OK;
        }
        if (code == TERN_DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (len - i < 2 || len - i - 2 < buf[i + 1]) {
            return TERN_ERR_TRUNCATED;
        }
        uint8_t n = buf[i + 1];
        tern_err err = take_option(out, code, buf + i + 2, n);
        if (err != TERN_OK) {
            return err;
        }
        i += 2u + n;
    }
    return TERN_ERR_TRUNCATED; /* no end option */
}

/* Length of the options part (without end) for r; 0 bits contribute nothing. */
static size_t options_len(const struct tern_dhcpv4_repr *r) {
    size_t n = r->msg_type ? 3 : 0;
    uint32_t p = r->present;
    n += (p & TERN_DHCP_HAS_SUBNET_MASK) ? 6 : 0;
    n += (p & TERN_DHCP_HAS_ROUTER) ? 2 + 4u * r->n_routers : 0;
    n += (p & TERN_DHCP_HAS_DNS) ? 2 + 4u * r->n_dns : 0;
    n += (p & TERN_DHCP_HAS_HOSTNAME) ? 2u + r->hostname_len : 0;
    n += (p & TERN_DHCP_HAS_MTU) ? 4 : 0;
    n += (p & TERN_DHCP_HAS_REQUESTED_IP) ? 6 : 0;
    n += (p & TERN_DHCP_HAS_LEASE_TIME) ? 6 : 0;
    n += (p & TERN_DHCP_HAS_SERVER_ID) ? 6 : 0;
    n += (p & TERN_DHCP_HAS_PARAM_LIST) ? 2u + r->param_list_len : 0;
    n += (p & TERN_DHCP_HAS_MESSAGE) ? 2u + r->message_len : 0;
    n += (p & TERN_DHCP_HAS_MAX_SIZE) ? 4 : 0;
    n += (p & TERN_DHCP_HAS_T1) ? 6 : 0;
    n += (p & TERN_DHCP_HAS_T2) ? 6 : 0;
    n += (p & TERN_DHCP_HAS_CLIENT_ID) ? 2u + r->client_id_len : 0;
    return n;
}

size_t tern_dhcpv4_emit_len(const struct tern_dhcpv4_repr *r) {
    size_t n = TERN_DHCP_MIN_LEN + options_len(r) + 1;
    return n < TERN_DHCP_BOOTP_MIN_LEN ? TERN_DHCP_BOOTP_MIN_LEN : n;
}

static bool var_ok(uint32_t present, uint32_t bit, const uint8_t *p, uint8_t n) {
    return !(present & bit) || (p != NULL && n > 0);
}

static uint8_t *put_u32_opt(uint8_t *w, uint8_t code, uint32_t v) {
    w[0] = code;
    w[1] = 4;
    tern_put_u32(w + 2, v);
    return w + 6;
}

static uint8_t *put_bytes_opt(uint8_t *w, uint8_t code, const uint8_t *p, uint8_t n) {
    w[0] = code;
    w[1] = n;
    memcpy(w + 2, p, n);
    return w + 2 + n;
}

static uint8_t *put_list_opt(uint8_t *w, uint8_t code, const uint32_t *v, uint8_t n) {
    w[0] = code;
    w[1] = (uint8_t)(4 * n);
    for (uint8_t i = 0; i < n; i++) {
        tern_put_u32(w + 2 + 4 * i, v[i]);
    }
    return w + 2 + 4 * n;
}

tern_err tern_dhcpv4_emit(const struct tern_dhcpv4_repr *r, uint8_t *buf, size_t cap,
                          size_t *written) {
    uint32_t p = r->present;
    if (r->hlen > 16 ||
        ((p & TERN_DHCP_HAS_ROUTER) &&
         (r->n_routers == 0 || r->n_routers > TERN_DHCP_MAX_ROUTERS)) ||
        ((p & TERN_DHCP_HAS_DNS) && (r->n_dns == 0 || r->n_dns > TERN_DHCP_MAX_DNS)) ||
        !var_ok(p, TERN_DHCP_HAS_HOSTNAME, r->hostname, r->hostname_len) ||
        !var_ok(p, TERN_DHCP_HAS_PARAM_LIST, r->param_list, r->param_list_len) ||
        !var_ok(p, TERN_DHCP_HAS_MESSAGE, r->message, r->message_len) ||
        !var_ok(p, TERN_DHCP_HAS_CLIENT_ID, r->client_id, r->client_id_len)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t total = tern_dhcpv4_emit_len(r);
    if (cap < total) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    memset(buf, 0, total);
    buf[0] = r->op;
    buf[1] = r->htype;
    buf[2] = r->hlen;
    buf[3] = r->hops;
    tern_put_u32(buf + OFF_XID, r->xid);
    tern_put_u16(buf + OFF_SECS, r->secs);
    tern_put_u16(buf + OFF_FLAGS, r->flags);
    tern_put_u32(buf + OFF_CIADDR, r->ciaddr);
    tern_put_u32(buf + OFF_YIADDR, r->yiaddr);
    tern_put_u32(buf + OFF_SIADDR, r->siaddr);
    tern_put_u32(buf + OFF_GIADDR, r->giaddr);
    memcpy(buf + OFF_CHADDR, r->chaddr, 16);
    tern_put_u32(buf + OFF_COOKIE, TERN_DHCP_MAGIC);
    uint8_t *w = buf + TERN_DHCP_MIN_LEN;
    if (r->msg_type) {
        /* RFC 2131 section 3: every DHCP message carries option 53. */
        w[0] = TERN_DHCP_OPT_MSG_TYPE;
        w[1] = 1;
        w[2] = r->msg_type;
        w += 3;
    }
    if (p & TERN_DHCP_HAS_SUBNET_MASK) {
        w = put_u32_opt(w, TERN_DHCP_OPT_SUBNET_MASK, r->subnet_mask);
    }
    if (p & TERN_DHCP_HAS_ROUTER) {
        w = put_list_opt(w, TERN_DHCP_OPT_ROUTER, r->routers, r->n_routers);
    }
    if (p & TERN_DHCP_HAS_DNS) {
        w = put_list_opt(w, TERN_DHCP_OPT_DNS, r->dns, r->n_dns);
    }
    if (p & TERN_DHCP_HAS_HOSTNAME) {
        w = put_bytes_opt(w, TERN_DHCP_OPT_HOSTNAME, r->hostname, r->hostname_len);
    }
    if (p & TERN_DHCP_HAS_MTU) {
        w[0] = TERN_DHCP_OPT_MTU;
        w[1] = 2;
        tern_put_u16(w + 2, r->mtu);
        w += 4;
    }
    if (p & TERN_DHCP_HAS_REQUESTED_IP) {
        w = put_u32_opt(w, TERN_DHCP_OPT_REQUESTED_IP, r->requested_ip);
    }
    if (p & TERN_DHCP_HAS_LEASE_TIME) {
        w = put_u32_opt(w, TERN_DHCP_OPT_LEASE_TIME, r->lease_time);
    }
    if (p & TERN_DHCP_HAS_SERVER_ID) {
        w = put_u32_opt(w, TERN_DHCP_OPT_SERVER_ID, r->server_id);
    }
    if (p & TERN_DHCP_HAS_PARAM_LIST) {
        w = put_bytes_opt(w, TERN_DHCP_OPT_PARAM_LIST, r->param_list, r->param_list_len);
    }
    if (p & TERN_DHCP_HAS_MESSAGE) {
        w = put_bytes_opt(w, TERN_DHCP_OPT_MESSAGE, r->message, r->message_len);
    }
    if (p & TERN_DHCP_HAS_MAX_SIZE) {
        w[0] = TERN_DHCP_OPT_MAX_SIZE;
        w[1] = 2;
        tern_put_u16(w + 2, r->max_size);
        w += 4;
    }
    if (p & TERN_DHCP_HAS_T1) {
        w = put_u32_opt(w, TERN_DHCP_OPT_T1, r->t1);
    }
    if (p & TERN_DHCP_HAS_T2) {
        w = put_u32_opt(w, TERN_DHCP_OPT_T2, r->t2);
    }
    if (p & TERN_DHCP_HAS_CLIENT_ID) {
        w = put_bytes_opt(w, TERN_DHCP_OPT_CLIENT_ID, r->client_id, r->client_id_len);
    }
    *w = TERN_DHCP_OPT_END; /* the rest up to 300 bytes is already pad (0) */
    *written = total;
    return TERN_OK;
}
