/* Dual-stack addresses and MAC addresses (see tern/addr.h). */
#include "tern/addr.h"

#include <string.h>

tern_addr tern_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    tern_addr r;
    memset(&r, 0, sizeof r);
    r.family = TERN_AF_INET;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
}

tern_addr tern_addr_v4_from_u32(uint32_t v) {
    return tern_addr_v4((uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v);
}

tern_addr tern_addr_v4_from_bytes(const uint8_t p[4]) {
    return tern_addr_v4(p[0], p[1], p[2], p[3]);
}

tern_addr tern_addr_v6_from_bytes(const uint8_t p[16]) {
    tern_addr r;
    r.family = TERN_AF_INET6;
    memcpy(r.bytes, p, 16);
    return r;
}

uint32_t tern_addr_v4_to_u32(const tern_addr *a) {
    if (a->family != TERN_AF_INET) {
        return 0;
    }
    return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 | (uint32_t)a->bytes[2] << 8 |
           a->bytes[3];
}

/* Bytes that are significant for a family; the rest is zero by construction
 * but is not trusted (a caller may have built the struct by hand). */
static size_t addr_width(uint8_t family) {
    switch (family) {
    case TERN_AF_INET:
        return 4;
    case TERN_AF_INET6:
        return 16;
    default:
        return 0;
    }
}

int tern_addr_cmp(const tern_addr *a, const tern_addr *b) {
    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    size_t w = addr_width(a->family);
    return w ? memcmp(a->bytes, b->bytes, w) : 0;
}

bool tern_addr_eq(const tern_addr *a, const tern_addr *b) {
    /* Fixed-width compares, which the compiler turns into word compares
     * (every received segment asks a few of these: a call to memcmp with a
     * run-time length each time showed in the bulk profile). */
    if (a->family != b->family) {
        return false;
    }
    switch (a->family) {
    case TERN_AF_INET:
        return memcmp(a->bytes, b->bytes, 4) == 0;
    case TERN_AF_INET6:
        return memcmp(a->bytes, b->bytes, 16) == 0;
    default:
        return true;
    }
}

bool tern_addr_is_v4(const tern_addr *a) {
    return a->family == TERN_AF_INET;
}

bool tern_addr_is_v6(const tern_addr *a) {
    return a->family == TERN_AF_INET6;
}

bool tern_addr_is_unspecified(const tern_addr *a) {
    size_t w = addr_width(a->family);
    for (size_t i = 0; i < w; i++) {
        if (a->bytes[i]) {
            return false;
        }
    }
    return true;
}

bool tern_addr_is_multicast(const tern_addr *a) {
    if (a->family == TERN_AF_INET) {
        return (a->bytes[0] & 0xf0) == 0xe0;
    }
    if (a->family == TERN_AF_INET6) {
        return a->bytes[0] == 0xff;
    }
    return false;
}

bool tern_addr_is_limited_broadcast(const tern_addr *a) {
    return a->family == TERN_AF_INET && a->bytes[0] == 0xff && a->bytes[1] == 0xff &&
           a->bytes[2] == 0xff && a->bytes[3] == 0xff;
}

bool tern_addr_prefix_match(const tern_addr *a, const tern_addr *b, unsigned prefix_len) {
    if (a->family != b->family) {
        return false;
    }
    size_t w = addr_width(a->family);
    if (prefix_len > w * 8) {
        prefix_len = (unsigned)(w * 8);
    }
    if (a->family == TERN_AF_INET) {
        /* one masked 32-bit compare (route and local-address checks per datagram) */
        uint32_t mask = prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
        return ((tern_addr_v4_to_u32(a) ^ tern_addr_v4_to_u32(b)) & mask) == 0;
    }
    size_t full = prefix_len / 8;
    if (memcmp(a->bytes, b->bytes, full) != 0) {
        return false;
    }
    unsigned rest = prefix_len % 8;
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return ((a->bytes[full] ^ b->bytes[full]) & mask) == 0;
}

bool tern_addr_is_directed_broadcast(const tern_addr *a, const tern_addr *net,
                                     unsigned prefix_len) {
    /* RFC 3021: /31 links have no broadcast address; /32 is a host route. */
    if (a->family != TERN_AF_INET || prefix_len >= 31 ||
        !tern_addr_prefix_match(a, net, prefix_len)) {
        return false;
    }
    uint32_t host_mask = prefix_len == 0 ? 0xffffffffu : (0xffffffffu >> prefix_len);
    return (tern_addr_v4_to_u32(a) & host_mask) == host_mask;
}

/* ---- text ------------------------------------------------------------ */

/* A bounded writer: keeps going after an overflow so the caller checks once. */
struct text_out {
    char *buf;
    size_t cap;
    size_t len;
};

static void out_char(struct text_out *o, char c) {
    if (o->len < o->cap) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_dec(struct text_out *o, unsigned v) {
    char tmp[4];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < 4);
    while (n) {
        out_char(o, tmp[--n]);
    }
}

static const char hex_digits[] = "0123456789abcdef";

static void out_hex16(struct text_out *o, unsigned v) {
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned d = (v >> shift) & 0xf;
        if (d || started || shift == 0) {
            out_char(o, hex_digits[d]);
            started = true;
        }
    }
}

/* Terminate, or report the overflow leaving an empty string. */
static tern_err out_finish(struct text_out *o) {
    if (o->len + 1 > o->cap) {
        if (o->cap > 0) {
            o->buf[0] = '\0';
        }
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    o->buf[o->len] = '\0';
    return TERN_OK;
}

static void format_v6(struct text_out *o, const uint8_t *b) {
    unsigned g[8];
    for (int i = 0; i < 8; i++) {
        g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    }
    /* RFC 5952 section 4.2: shorten the longest run of zero groups (the
     * first one on a tie), and only runs of two or more. */
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0) {
            j++;
        }
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2) {
        best = -1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            out_char(o, ':');
            out_char(o, ':');
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len) {
            out_char(o, ':');
        }
        out_hex16(o, g[i]);
    }
}

tern_err tern_addr_format(const tern_addr *a, char *buf, size_t cap) {
    struct text_out o = {buf, cap, 0};
    switch (a->family) {
    case TERN_AF_NONE:
        for (const char *s = "none"; *s; s++) {
            out_char(&o, *s);
        }
        break;
    case TERN_AF_INET:
        for (int i = 0; i < 4; i++) {
            if (i) {
                out_char(&o, '.');
            }
            out_dec(&o, a->bytes[i]);
        }
        break;
    case TERN_AF_INET6:
        format_v6(&o, a->bytes);
        break;
    default:
        if (cap > 0) {
            buf[0] = '\0';
        }
        return TERN_ERR_INVALID_ARGUMENT;
    }
    return out_finish(&o);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool parse_v4(const char *s, uint8_t out[4]) {
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            if (*s != '.') {
                return false;
            }
            s++;
        }
        if (*s < '0' || *s > '9') {
            return false;
        }
        /* No leading zeros: "010" is octal in inet_aton, so refuse it. */
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') {
            return false;
        }
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s - '0');
            s++;
            if (++digits > 3 || v > 255) {
                return false;
            }
        }
        out[i] = (uint8_t)v;
    }
    return *s == '\0';
}

static bool parse_v6(const char *s, uint8_t out[16]) {
    unsigned head[8], tail[8];
    int nhead = 0, ntail = 0;
    bool gap = false;
    if (s[0] == ':') {
        if (s[1] != ':') {
            return false;
        }
        gap = true;
        s += 2;
    }
    while (*s) {
        unsigned v = 0;
        int digits = 0;
        int d;
        while ((d = hex_value(*s)) >= 0) {
            v = v << 4 | (unsigned)d;
            s++;
            if (++digits > 4) {
                return false;
            }
        }
        if (digits == 0) {
            return false;
        }
        if (nhead + ntail >= 8) {
            return false;
        }
        if (gap) {
            tail[ntail++] = v;
        } else {
            head[nhead++] = v;
        }
        if (*s == '\0') {
            break;
        }
        if (*s != ':') {
            return false;
        }
        s++;
        if (*s == ':') {
            if (gap) {
                return false; /* RFC 4291 section 2.2: "::" at most once */
            }
            gap = true;
            s++;
            if (*s == '\0') {
                break;
            }
        } else if (*s == '\0') {
            return false; /* trailing single ':' */
        }
    }
    int total = nhead + ntail;
    if (gap ? total > 7 : total != 8) {
        return false;
    }
    memset(out, 0, 16);
    for (int i = 0; i < nhead; i++) {
        out[2 * i] = (uint8_t)(head[i] >> 8);
        out[2 * i + 1] = (uint8_t)head[i];
    }
    for (int i = 0; i < ntail; i++) {
        int at = 8 - ntail + i;
        out[2 * at] = (uint8_t)(tail[i] >> 8);
        out[2 * at + 1] = (uint8_t)tail[i];
    }
    return true;
}

tern_err tern_addr_parse(const char *text, tern_addr *out) {
    uint8_t b[16];
    if (text == NULL) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (strchr(text, ':') != NULL) {
        if (!parse_v6(text, b)) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
        *out = tern_addr_v6_from_bytes(b);
        return TERN_OK;
    }
    if (!parse_v4(text, b)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    *out = tern_addr_v4_from_bytes(b);
    return TERN_OK;
}

/* ---- MAC addresses --------------------------------------------------- */

tern_mac tern_mac_broadcast(void) {
    tern_mac m;
    memset(m.b, 0xff, sizeof m.b);
    return m;
}

bool tern_mac_eq(const tern_mac *a, const tern_mac *b) {
    return memcmp(a->b, b->b, 6) == 0;
}

bool tern_mac_is_broadcast(const tern_mac *m) {
    for (int i = 0; i < 6; i++) {
        if (m->b[i] != 0xff) {
            return false;
        }
    }
    return true;
}

bool tern_mac_is_multicast(const tern_mac *m) {
    return (m->b[0] & 0x01) != 0;
}

bool tern_mac_is_zero(const tern_mac *m) {
    for (int i = 0; i < 6; i++) {
        if (m->b[i] != 0) {
            return false;
        }
    }
    return true;
}

tern_mac tern_mac_ipv4_multicast(const tern_addr *group) {
    tern_mac m = {
        {0x01, 0x00, 0x5e, (uint8_t)(group->bytes[1] & 0x7f), group->bytes[2], group->bytes[3]}};
    return m;
}

tern_err tern_mac_format(const tern_mac *m, char *buf, size_t cap) {
    struct text_out o = {buf, cap, 0};
    for (int i = 0; i < 6; i++) {
        if (i) {
            out_char(&o, ':');
        }
        out_char(&o, hex_digits[m->b[i] >> 4]);
        out_char(&o, hex_digits[m->b[i] & 0xf]);
    }
    return out_finish(&o);
}
