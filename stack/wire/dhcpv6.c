/* DHCPv6 messages (RFC 8415 sections 8 and 21, RFC 3646); see dhcpv6.h. */
#include "wire/dhcpv6.h"

#include <string.h>

#include "wire/bytes.h"

#define OPT_HDR 4
#define IA_NA_FIXED 12  /* IAID, T1, T2 (section 21.4) */
#define IAADDR_FIXED 24 /* address, preferred, valid (section 21.6) */

/* One option header at p[0..4) within end: its code, its data and length. */
static tern_err next_option(const uint8_t *p, const uint8_t *end, uint16_t *code,
                            const uint8_t **data, uint16_t *len) {
    if ((size_t)(end - p) < OPT_HDR) {
        return TERN_ERR_TRUNCATED;
    }
    *code = tern_get_u16(p);
    *len = tern_get_u16(p + 2);
    if ((size_t)(end - p - OPT_HDR) < *len) {
        return TERN_ERR_TRUNCATED; /* the option's length runs past what encloses it */
    }
    *data = p + OPT_HDR;
    return TERN_OK;
}

/* A Status Code option's data (section 21.13): the code, then UTF-8 text. */
static tern_err parse_status(const uint8_t *d, uint16_t len, uint16_t *code, const uint8_t **msg,
                             uint16_t *msg_len) {
    if (len < 2) {
        return TERN_ERR_MALFORMED;
    }
    *code = tern_get_u16(d);
    if (msg) {
        *msg = d + 2;
        *msg_len = (uint16_t)(len - 2);
    }
    return TERN_OK;
}

static tern_err parse_iaaddr(const uint8_t *d, uint16_t len, struct tern_dhcpv6_iaaddr *a) {
    if (len < IAADDR_FIXED) {
        return TERN_ERR_MALFORMED;
    }
    memset(a, 0, sizeof *a);
    a->addr = tern_addr_v6_from_bytes(d);
    a->preferred = tern_get_u32(d + 16);
    a->valid = tern_get_u32(d + 20);
    const uint8_t *p = d + IAADDR_FIXED, *end = d + len;
    while (p < end) {
        uint16_t code, olen;
        const uint8_t *od;
        tern_err err = next_option(p, end, &code, &od, &olen);
        if (err != TERN_OK) {
            return err;
        }
        if (code == TERN_DHCPV6_OPT_STATUS_CODE && !a->has_status) {
            err = parse_status(od, olen, &a->status, NULL, NULL);
            if (err != TERN_OK) {
                return err;
            }
            a->has_status = true;
        }
        p = od + olen;
    }
    return TERN_OK;
}

static tern_err parse_ia_na(const uint8_t *d, uint16_t len, struct tern_dhcpv6_repr *r) {
    if (len < IA_NA_FIXED) {
        return TERN_ERR_MALFORMED;
    }
    r->iaid = tern_get_u32(d);
    r->t1 = tern_get_u32(d + 4);
    r->t2 = tern_get_u32(d + 8);
    const uint8_t *p = d + IA_NA_FIXED, *end = d + len;
    while (p < end) {
        uint16_t code, olen;
        const uint8_t *od;
        tern_err err = next_option(p, end, &code, &od, &olen);
        if (err != TERN_OK) {
            return err;
        }
        if (code == TERN_DHCPV6_OPT_IAADDR) {
            struct tern_dhcpv6_iaaddr a;
            err = parse_iaaddr(od, olen, &a);
            if (err != TERN_OK) {
                return err;
            }
            if (r->naddrs < TERN_DHCPV6_MAX_ADDRS) {
                r->addrs[r->naddrs++] = a;
            } else {
                r->extra_addrs++;
            }
        } else if (code == TERN_DHCPV6_OPT_STATUS_CODE &&
                   !(r->present & TERN_DHCPV6_HAS_IA_STATUS)) {
            err = parse_status(od, olen, &r->ia_status, NULL, NULL);
            if (err != TERN_OK) {
                return err;
            }
            r->present |= TERN_DHCPV6_HAS_IA_STATUS;
        }
        p = od + olen;
    }
    return TERN_OK;
}

static bool duid_len_ok(uint16_t len) {
    return len >= TERN_DHCPV6_DUID_MIN && len <= TERN_DHCPV6_DUID_MAX;
}

/* One top-level option; its first instance only (the caller checks). */
static tern_err parse_option(uint16_t code, const uint8_t *d, uint16_t len,
                             struct tern_dhcpv6_repr *r) {
    switch (code) {
    case TERN_DHCPV6_OPT_CLIENTID:
    case TERN_DHCPV6_OPT_SERVERID:
        if (!duid_len_ok(len)) {
            return TERN_ERR_MALFORMED;
        }
        if (code == TERN_DHCPV6_OPT_CLIENTID) {
            r->client_id = d;
            r->client_id_len = len;
        } else {
            r->server_id = d;
            r->server_id_len = len;
        }
        return TERN_OK;
    case TERN_DHCPV6_OPT_IA_NA:
        return parse_ia_na(d, len, r);
    case TERN_DHCPV6_OPT_ORO:
        if (len % 2 != 0) {
            return TERN_ERR_MALFORMED;
        }
        for (uint16_t i = 0; i < len / 2 && r->n_oro < TERN_DHCPV6_MAX_ORO; i++) {
            r->oro[r->n_oro++] = tern_get_u16(d + 2 * i);
        }
        return TERN_OK;
    case TERN_DHCPV6_OPT_PREFERENCE:
        if (len != 1) {
            return TERN_ERR_MALFORMED;
        }
        r->preference = d[0];
        return TERN_OK;
    case TERN_DHCPV6_OPT_ELAPSED_TIME:
        if (len != 2) {
            return TERN_ERR_MALFORMED;
        }
        r->elapsed = tern_get_u16(d);
        return TERN_OK;
    case TERN_DHCPV6_OPT_STATUS_CODE:
        return parse_status(d, len, &r->status, &r->status_msg, &r->status_msg_len);
    case TERN_DHCPV6_OPT_RAPID_COMMIT:
        return len == 0 ? TERN_OK : TERN_ERR_MALFORMED;
    case TERN_DHCPV6_OPT_DNS_SERVERS:
        /* RFC 3646 section 3: the option is a list of 16-byte addresses. */
        if (len == 0 || len % 16 != 0) {
            return TERN_ERR_MALFORMED;
        }
        for (uint16_t i = 0; i < len / 16; i++) {
            if (r->n_dns < TERN_DHCPV6_MAX_DNS) {
                r->dns[r->n_dns++] = tern_addr_v6_from_bytes(d + 16 * i);
            } else {
                r->extra_dns++;
            }
        }
        return TERN_OK;
    case TERN_DHCPV6_OPT_DOMAIN_LIST:
        r->domains = d;
        r->domains_len = len;
        return TERN_OK;
    case TERN_DHCPV6_OPT_INFORMATION_REFRESH_TIME:
    case TERN_DHCPV6_OPT_SOL_MAX_RT:
        if (len != 4) {
            return TERN_ERR_MALFORMED;
        }
        if (code == TERN_DHCPV6_OPT_SOL_MAX_RT) {
            r->sol_max_rt = tern_get_u32(d);
        } else {
            r->info_refresh = tern_get_u32(d);
        }
        return TERN_OK;
    default:
        return TERN_OK;
    }
}

/* The representation bit of a top-level option code, 0 for codes not kept. */
static uint32_t bit_of(uint16_t code) {
    switch (code) {
    case TERN_DHCPV6_OPT_CLIENTID:
        return TERN_DHCPV6_HAS_CLIENTID;
    case TERN_DHCPV6_OPT_SERVERID:
        return TERN_DHCPV6_HAS_SERVERID;
    case TERN_DHCPV6_OPT_IA_NA:
        return TERN_DHCPV6_HAS_IA_NA;
    case TERN_DHCPV6_OPT_ORO:
        return TERN_DHCPV6_HAS_ORO;
    case TERN_DHCPV6_OPT_PREFERENCE:
        return TERN_DHCPV6_HAS_PREFERENCE;
    case TERN_DHCPV6_OPT_ELAPSED_TIME:
        return TERN_DHCPV6_HAS_ELAPSED;
    case TERN_DHCPV6_OPT_STATUS_CODE:
        return TERN_DHCPV6_HAS_STATUS;
    case TERN_DHCPV6_OPT_RAPID_COMMIT:
        return TERN_DHCPV6_HAS_RAPID_COMMIT;
    case TERN_DHCPV6_OPT_DNS_SERVERS:
        return TERN_DHCPV6_HAS_DNS;
    case TERN_DHCPV6_OPT_DOMAIN_LIST:
        return TERN_DHCPV6_HAS_DOMAINS;
    case TERN_DHCPV6_OPT_INFORMATION_REFRESH_TIME:
        return TERN_DHCPV6_HAS_INFO_REFRESH;
    case TERN_DHCPV6_OPT_SOL_MAX_RT:
        return TERN_DHCPV6_HAS_SOL_MAX_RT;
    default:
        return 0;
    }
}

tern_err tern_dhcpv6_parse(const uint8_t *buf, size_t len, struct tern_dhcpv6_repr *out) {
    memset(out, 0, sizeof *out);
    if (len < TERN_DHCPV6_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    out->msg_type = buf[0];
    if (out->msg_type == TERN_DHCPV6_MSG_RELAY_FORW ||
        out->msg_type == TERN_DHCPV6_MSG_RELAY_REPL) {
        return TERN_ERR_UNSUPPORTED; /* section 9: another header layout */
    }
    out->xid = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    const uint8_t *p = buf + TERN_DHCPV6_HDR_LEN, *end = buf + len;
    while (p < end) {
        uint16_t code, olen;
        const uint8_t *d;
        tern_err err = next_option(p, end, &code, &d, &olen);
        if (err != TERN_OK) {
            return err;
        }
        uint32_t bit = bit_of(code);
        if (bit == 0) {
            out->unknown++;
        } else if (out->present & bit) {
            if (code == TERN_DHCPV6_OPT_IA_NA) {
                out->extra_ia++;
            }
        } else {
            err = parse_option(code, d, olen, out);
            if (err != TERN_OK) {
                return err;
            }
            out->present |= bit;
        }
        p = d + olen;
    }
    return TERN_OK;
}

/* ---- emit ------------------------------------------------------------------------- */

static size_t ia_na_len(const struct tern_dhcpv6_repr *r) {
    size_t n = IA_NA_FIXED;
    for (uint8_t i = 0; i < r->naddrs; i++) {
        n += OPT_HDR + IAADDR_FIXED + (r->addrs[i].has_status ? OPT_HDR + 2 : 0);
    }
    if (r->present & TERN_DHCPV6_HAS_IA_STATUS) {
        n += OPT_HDR + 2;
    }
    return n;
}

size_t tern_dhcpv6_emit_len(const struct tern_dhcpv6_repr *r) {
    size_t n = TERN_DHCPV6_HDR_LEN;
    uint32_t p = r->present;
    n += (p & TERN_DHCPV6_HAS_CLIENTID) ? OPT_HDR + r->client_id_len : 0;
    n += (p & TERN_DHCPV6_HAS_SERVERID) ? OPT_HDR + r->server_id_len : 0;
    n += (p & TERN_DHCPV6_HAS_IA_NA) ? OPT_HDR + ia_na_len(r) : 0;
    n += (p & TERN_DHCPV6_HAS_ORO) ? OPT_HDR + 2u * r->n_oro : 0;
    n += (p & TERN_DHCPV6_HAS_PREFERENCE) ? OPT_HDR + 1 : 0;
    n += (p & TERN_DHCPV6_HAS_ELAPSED) ? OPT_HDR + 2 : 0;
    n += (p & TERN_DHCPV6_HAS_STATUS) ? OPT_HDR + 2 + r->status_msg_len : 0;
    n += (p & TERN_DHCPV6_HAS_RAPID_COMMIT) ? OPT_HDR : 0;
    n += (p & TERN_DHCPV6_HAS_DNS) ? OPT_HDR + 16u * r->n_dns : 0;
    n += (p & TERN_DHCPV6_HAS_DOMAINS) ? OPT_HDR + r->domains_len : 0;
    n += (p & TERN_DHCPV6_HAS_INFO_REFRESH) ? OPT_HDR + 4 : 0;
    n += (p & TERN_DHCPV6_HAS_SOL_MAX_RT) ? OPT_HDR + 4 : 0;
    return n;
}

static uint8_t *put_opt(uint8_t *p, uint16_t code, size_t len) {
    tern_put_u16(p, code);
    tern_put_u16(p + 2, (uint16_t)len);
    return p + OPT_HDR;
}

static uint8_t *put_bytes(uint8_t *p, uint16_t code, const uint8_t *d, size_t len) {
    p = put_opt(p, code, len);
    if (len) {
        memcpy(p, d, len);
    }
    return p + len;
}

static uint8_t *put_u32_opt(uint8_t *p, uint16_t code, uint32_t v) {
    p = put_opt(p, code, 4);
    tern_put_u32(p, v);
    return p + 4;
}

static uint8_t *put_status(uint8_t *p, uint16_t code) {
    p = put_opt(p, TERN_DHCPV6_OPT_STATUS_CODE, 2);
    tern_put_u16(p, code);
    return p + 2;
}

static tern_err check_emit(const struct tern_dhcpv6_repr *r) {
    uint32_t p = r->present;
    if (r->xid > 0xffffffu || r->naddrs > TERN_DHCPV6_MAX_ADDRS || r->n_dns > TERN_DHCPV6_MAX_DNS ||
        r->n_oro > TERN_DHCPV6_MAX_ORO) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (((p & TERN_DHCPV6_HAS_CLIENTID) && !duid_len_ok(r->client_id_len)) ||
        ((p & TERN_DHCPV6_HAS_SERVERID) && !duid_len_ok(r->server_id_len))) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if ((p & TERN_DHCPV6_HAS_DNS) && r->n_dns == 0) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    for (uint8_t i = 0; i < r->naddrs; i++) {
        if (!tern_addr_is_v6(&r->addrs[i].addr)) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
    }
    for (uint8_t i = 0; i < r->n_dns; i++) {
        if (!tern_addr_is_v6(&r->dns[i])) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
    }
    return TERN_OK;
}

tern_err tern_dhcpv6_emit(const struct tern_dhcpv6_repr *r, uint8_t *buf, size_t cap,
                          size_t *written) {
    tern_err err = check_emit(r);
    if (err != TERN_OK) {
        return err;
    }
    size_t n = tern_dhcpv6_emit_len(r);
    if (n > cap) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    uint32_t pr = r->present;
    uint8_t *p = buf;
    p[0] = r->msg_type;
    p[1] = (uint8_t)(r->xid >> 16);
    p[2] = (uint8_t)(r->xid >> 8);
    p[3] = (uint8_t)r->xid;
    p += TERN_DHCPV6_HDR_LEN;
    if (pr & TERN_DHCPV6_HAS_CLIENTID) {
        p = put_bytes(p, TERN_DHCPV6_OPT_CLIENTID, r->client_id, r->client_id_len);
    }
    if (pr & TERN_DHCPV6_HAS_SERVERID) {
        p = put_bytes(p, TERN_DHCPV6_OPT_SERVERID, r->server_id, r->server_id_len);
    }
    if (pr & TERN_DHCPV6_HAS_IA_NA) {
        p = put_opt(p, TERN_DHCPV6_OPT_IA_NA, ia_na_len(r));
        tern_put_u32(p, r->iaid);
        tern_put_u32(p + 4, r->t1);
        tern_put_u32(p + 8, r->t2);
        p += IA_NA_FIXED;
        for (uint8_t i = 0; i < r->naddrs; i++) {
            const struct tern_dhcpv6_iaaddr *a = &r->addrs[i];
            p = put_opt(p, TERN_DHCPV6_OPT_IAADDR,
                        IAADDR_FIXED + (a->has_status ? OPT_HDR + 2 : 0));
            memcpy(p, a->addr.bytes, 16);
            tern_put_u32(p + 16, a->preferred);
            tern_put_u32(p + 20, a->valid);
            p += IAADDR_FIXED;
            if (a->has_status) {
                p = put_status(p, a->status);
            }
        }
        if (pr & TERN_DHCPV6_HAS_IA_STATUS) {
            p = put_status(p, r->ia_status);
        }
    }
    if (pr & TERN_DHCPV6_HAS_ORO) {
        p = put_opt(p, TERN_DHCPV6_OPT_ORO, 2u * r->n_oro);
        for (uint8_t i = 0; i < r->n_oro; i++) {
            tern_put_u16(p, r->oro[i]);
            p += 2;
        }
    }
    if (pr & TERN_DHCPV6_HAS_PREFERENCE) {
        p = put_opt(p, TERN_DHCPV6_OPT_PREFERENCE, 1);
        *p++ = r->preference;
    }
    if (pr & TERN_DHCPV6_HAS_ELAPSED) {
        p = put_opt(p, TERN_DHCPV6_OPT_ELAPSED_TIME, 2);
        tern_put_u16(p, r->elapsed);
        p += 2;
    }
    if (pr & TERN_DHCPV6_HAS_STATUS) {
        p = put_opt(p, TERN_DHCPV6_OPT_STATUS_CODE, 2u + r->status_msg_len);
        tern_put_u16(p, r->status);
        if (r->status_msg_len) {
            memcpy(p + 2, r->status_msg, r->status_msg_len);
        }
        p += 2 + r->status_msg_len;
    }
    if (pr & TERN_DHCPV6_HAS_RAPID_COMMIT) {
        p = put_opt(p, TERN_DHCPV6_OPT_RAPID_COMMIT, 0);
    }
    if (pr & TERN_DHCPV6_HAS_DNS) {
        p = put_opt(p, TERN_DHCPV6_OPT_DNS_SERVERS, 16u * r->n_dns);
        for (uint8_t i = 0; i < r->n_dns; i++) {
            memcpy(p, r->dns[i].bytes, 16);
            p += 16;
        }
    }
    if (pr & TERN_DHCPV6_HAS_DOMAINS) {
        p = put_bytes(p, TERN_DHCPV6_OPT_DOMAIN_LIST, r->domains, r->domains_len);
    }
    if (pr & TERN_DHCPV6_HAS_INFO_REFRESH) {
        p = put_u32_opt(p, TERN_DHCPV6_OPT_INFORMATION_REFRESH_TIME, r->info_refresh);
    }
    if (pr & TERN_DHCPV6_HAS_SOL_MAX_RT) {
        p = put_u32_opt(p, TERN_DHCPV6_OPT_SOL_MAX_RT, r->sol_max_rt);
    }
    *written = (size_t)(p - buf);
    return TERN_OK;
}

tern_err tern_dhcpv6_domain_first(const uint8_t *list, size_t len, char *out, size_t cap) {
    if (cap == 0) {
        return TERN_ERR_MALFORMED;
    }
    size_t i = 0, w = 0;
    out[0] = '\0';
    /* Bounded: every step consumes at least one byte of the list. */
    while (i < len) {
        uint8_t l = list[i++];
        if (l == 0) {
            out[w] = '\0';
            return TERN_OK;
        }
        /* DHCPv6 names are never compressed (RFC 8415 section 10): a length with the top two
         * bits set would be a compression pointer, and is refused with the other bad lengths. */
        if (l > 63 || l > len - i) {
            return TERN_ERR_MALFORMED;
        }
        if (w + (w ? 1u : 0u) + l + 1 > cap) {
            return TERN_ERR_MALFORMED;
        }
        if (w) {
            out[w++] = '.';
        }
        memcpy(out + w, list + i, l);
        w += l;
        i += l;
    }
    return TERN_ERR_MALFORMED; /* no terminating root label */
}
