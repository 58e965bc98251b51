/*
 * getaddrinfo over the Tern host's DNS resolver (tern_netdb.h).
 */
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY, EAI_SYSTEM are GNU's */
#include "tern_netdb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/dns.h"
#include "tern_socket_private.h"

#define TNDB_MAX_ADDRS (TERN_DNS_MAX_ADDRS + 2)

/* What the lookup found: addresses in order, the canonical name. */
typedef struct found {
    tern_addr addr[TNDB_MAX_ADDRS];
    unsigned n;
    char canon[TERN_DNS_NAME_MAX + 1];
} found;

static void add(found *fd, tern_addr a) {
    if (fd->n < TNDB_MAX_ADDRS) {
        fd->addr[fd->n++] = a;
    }
}

static tern_addr v6_of(const uint8_t b[16]) {
    return tern_addr_v6_from_bytes(b);
}

/* ::ffff:a.b.c.d for an IPv4 address (RFC 4291 §2.5.5.2). */
static tern_addr mapped(const tern_addr *v4) {
    uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memcpy(b + 12, v4->bytes, 4);
    return v6_of(b);
}

static int parse_service(const char *service, int flags, uint16_t *port) {
    *port = 0;
    if (service == NULL) {
        return 0;
    }
    unsigned long v = 0;
    const char *p = service;
    if (*p == '\0') {
        return flags & AI_NUMERICSERV ? EAI_NONAME : EAI_SERVICE;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            /* No services database: a service name cannot be looked up. */
            return flags & AI_NUMERICSERV ? EAI_NONAME : EAI_SERVICE;
        }
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535) {
            return EAI_SERVICE;
        }
    }
    *port = (uint16_t)v;
    return 0;
}

static int eai_of_dns(tern_dns_status st) {
    switch (st) {
    case TERN_DNS_NXDOMAIN:
        return EAI_NONAME;
    case TERN_DNS_NODATA:
        return EAI_NODATA;
    case TERN_DNS_TIMEOUT:
        return EAI_AGAIN;
    default:
        return EAI_FAIL;
    }
}

/* One DNS query of `name` for IPv4 (A) addresses, blocking until the resolver is done. */
static int query_a(tern_sockets *ts, const char *name, found *out) {
    uint32_t id;
    tern_err err = tern_dns_resolve(ts->st, ts->drv.now(ts->drv.ctx), name, &id);
    if (err == TERN_ERR_NO_BUFFER) {
        return EAI_AGAIN;
    }
    if (err != TERN_OK) {
        return EAI_NONAME; /* a name that cannot be encoded (empty label, too long) */
    }
    for (;;) {
        tern_dns_answer ans;
        if (tern_dns_result(ts->st, id, &ans) != TERN_OK) {
            return EAI_FAIL;
        }
        if (ans.status == TERN_DNS_OK) {
            for (uint32_t i = 0; i < ans.n_addrs; i++) {
                add(out, tern_addr_v4_from_u32(ans.addrs[i]));
            }
            snprintf(out->canon, sizeof out->canon, "%s", ans.canonical);
            return 0;
        }
        if (ans.status != TERN_DNS_PENDING) {
            return eai_of_dns(ans.status);
        }
        /* The resolver has its own timeouts and rounds, so the wait always ends. */
        if (tsk_wait_step(ts, TERN_NEVER) != 0) {
            return EAI_SYSTEM;
        }
    }
}

/*
 * A name's addresses of `family` (AF_UNSPEC: both). The one place where the
 * record types are chosen: AAAA, when the resolver has it, is a second query
 * here for AF_INET6 and AF_UNSPEC, its addresses put first as glibc sorts
 * them (RFC 6724's default policy prefers IPv6).
 */
static int resolve_name(tern_sockets *ts, const char *name, int family, int flags, found *out) {
    found a;
    memset(&a, 0, sizeof a);
    int r = query_a(ts, name, &a);
    if (r != 0) {
        return r;
    }
    snprintf(out->canon, sizeof out->canon, "%s", a.canon[0] ? a.canon : name);
    for (unsigned i = 0; i < a.n; i++) {
        if (family == AF_INET6) {
            if (!(flags & AI_V4MAPPED)) {
                return EAI_NONAME; /* no AAAA query: no IPv6 address for a name */
            }
            add(out, mapped(&a.addr[i]));
        } else {
            add(out, a.addr[i]);
        }
    }
    return 0;
}

static int lookup(tern_sockets *ts, const char *node, int family, int flags, found *out) {
    static const uint8_t any6[16] = {0};
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (node == NULL) {
        bool passive = (flags & AI_PASSIVE) != 0;
        tern_addr v4 = passive ? tern_addr_v4(0, 0, 0, 0) : tern_addr_v4(127, 0, 0, 1);
        tern_addr v6 = v6_of(passive ? any6 : lo6);
        /* glibc's order: the IPv4 wildcard first, but the IPv6 loopback first. */
        if (passive && family != AF_INET6) {
            add(out, v4);
        }
        if (family != AF_INET) {
            add(out, v6);
        }
        if (!passive && family != AF_INET6) {
            add(out, v4);
        }
        return 0;
    }
    tern_addr a;
    if (tern_addr_parse(node, &a) == TERN_OK) {
        snprintf(out->canon, sizeof out->canon, "%s", node);
        if (a.family == TERN_AF_INET && family == AF_INET6) {
            if (!(flags & AI_V4MAPPED)) {
                return EAI_ADDRFAMILY;
            }
            a = mapped(&a);
        } else if (a.family == TERN_AF_INET6 && family == AF_INET) {
            return EAI_ADDRFAMILY;
        }
        add(out, a);
        return 0;
    }
    if (flags & AI_NUMERICHOST) {
        return EAI_NONAME;
    }
    return resolve_name(ts, node, family, flags, out);
}

static struct addrinfo *entry(const tern_addr *a, uint16_t port, int socktype) {
    struct addrinfo *ai = calloc(1, sizeof *ai + sizeof(struct sockaddr_in6));
    if (ai == NULL) {
        return NULL;
    }
    ai->ai_socktype = socktype;
    ai->ai_protocol = socktype == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    if (a->family == TERN_AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ai->ai_addr;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(s6->sin6_addr.s6_addr, a->bytes, 16);
        ai->ai_family = AF_INET6;
        ai->ai_addrlen = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ai->ai_addr;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr.s_addr, a->bytes, 4);
        ai->ai_family = AF_INET;
        ai->ai_addrlen = sizeof *s4;
    }
    return ai;
}

int tern_getaddrinfo(tern_sockets *ts, const char *node, const char *service,
                     const struct addrinfo *hints, struct addrinfo **res) {
    static const int known = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_NUMERICSERV |
                             AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG;
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int socktype = hints ? hints->ai_socktype : 0;
    int protocol = hints ? hints->ai_protocol : 0;
    int flags = hints ? hints->ai_flags : 0;
    if (res == NULL) {
        return EAI_SYSTEM;
    }
    *res = NULL;
    if (flags & ~known) {
        return EAI_BADFLAGS;
    }
    if (node == NULL && service == NULL) {
        return EAI_NONAME;
    }
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
        return EAI_FAMILY;
    }
    if (socktype != 0 && socktype != SOCK_STREAM && socktype != SOCK_DGRAM) {
        return EAI_SOCKTYPE;
    }
    if (protocol != 0 && !(protocol == IPPROTO_TCP && socktype != SOCK_DGRAM) &&
        !(protocol == IPPROTO_UDP && socktype != SOCK_STREAM)) {
        return EAI_SOCKTYPE;
    }
    if (socktype == 0 && protocol != 0) {
        socktype = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
    }
    uint16_t port;
    int r = parse_service(service, flags, &port);
    if (r != 0) {
        return r;
    }
    found fd;
    memset(&fd, 0, sizeof fd);
    r = lookup(ts, node, family, flags, &fd);
    if (r != 0) {
        return r;
    }
    if (fd.n == 0) {
        return EAI_NODATA;
    }
    struct addrinfo *head = NULL, **tail = &head;
    for (unsigned i = 0; i < fd.n; i++) {
        for (int k = 0; k < 2; k++) {
            int type = k == 0 ? SOCK_STREAM : SOCK_DGRAM;
            if (socktype != 0 && socktype != type) {
                continue;
            }
            struct addrinfo *ai = entry(&fd.addr[i], port, type);
            if (ai == NULL) {
                tern_freeaddrinfo(head);
                return EAI_MEMORY;
            }
            *tail = ai;
            tail = &ai->ai_next;
        }
    }
    if ((flags & AI_CANONNAME) && node != NULL) {
        /* The canonical name rides on the first entry (POSIX). */
        head->ai_canonname = strdup(fd.canon);
        if (head->ai_canonname == NULL) {
            tern_freeaddrinfo(head);
            return EAI_MEMORY;
        }
    }
    *res = head;
    return 0;
}

void tern_freeaddrinfo(struct addrinfo *res) {
    while (res != NULL) {
        struct addrinfo *next = res->ai_next;
        free(res->ai_canonname);
        free(res);
        res = next;
    }
}

const char *tern_gai_strerror(int code) {
    return gai_strerror(code);
}
