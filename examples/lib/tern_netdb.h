/*
 * tern_getaddrinfo: getaddrinfo(3) over a Tern host's DNS stub resolver
 * (tern/dns.h), for programs written against the sockets layer
 * (tern_socket.h). It takes and gives the C library's own struct addrinfo,
 * AI_* flags and EAI_* codes (<netdb.h>), so a program can call either.
 *
 * node
 *   NULL           the wildcard addresses with AI_PASSIVE (0.0.0.0, then ::),
 *                  else the loopback addresses (::1, then 127.0.0.1), each as
 *                  ai_family allows: glibc's order
 *   numeric        an IPv4 dotted quad or an IPv6 address (tern_addr_parse's
 *                  forms); never sent to DNS. An address of the other family
 *                  than ai_family is EAI_ADDRFAMILY, except an IPv4 address
 *                  with AF_INET6 and AI_V4MAPPED (::ffff:a.b.c.d)
 *   a name         asked of the host's DNS resolver, the call blocking (in
 *                  virtual time with the simulation driver) until the
 *                  resolver answers or gives up. A records (IPv4) only: the
 *                  resolver has no AAAA query yet (tern/dns.h "Not done").
 *                  With AF_INET6 a name's A records are returned as
 *                  ::ffff:a.b.c.d when AI_V4MAPPED is set, else EAI_NONAME.
 *                  The family dispatch is in one place (resolve_name in
 *                  tern_netdb.c), so an AAAA query adds one branch there.
 * service          NULL (port 0) or a decimal port 0..65535; there is no
 *                  services database, so a name is EAI_SERVICE
 *                  (EAI_NONAME with AI_NUMERICSERV, as glibc). Above 65535 is
 *                  EAI_SERVICE (glibc takes it modulo 65536).
 * hints            NULL, or ai_family AF_UNSPEC/AF_INET/AF_INET6 (else
 *                  EAI_FAMILY), ai_socktype 0/SOCK_STREAM/SOCK_DGRAM (else
 *                  EAI_SOCKTYPE), ai_protocol 0 or the type's own (else
 *                  EAI_SOCKTYPE), ai_flags of AI_PASSIVE, AI_CANONNAME,
 *                  AI_NUMERICHOST, AI_NUMERICSERV, AI_V4MAPPED, AI_ALL,
 *                  AI_ADDRCONFIG (else EAI_BADFLAGS). ai_socktype 0 gives one
 *                  entry per address for SOCK_STREAM and one for SOCK_DGRAM
 *                  (glibc adds SOCK_RAW, which the sockets layer does not
 *                  have). AI_ADDRCONFIG is accepted and changes nothing.
 *
 * Returns 0 and *res (free it with tern_freeaddrinfo), or an EAI_* code:
 *   EAI_NONAME     node and service both NULL; a name with AI_NUMERICHOST; a
 *                  name that does not exist (NXDOMAIN)
 *   EAI_NODATA     the name exists with no address of the family asked
 *   EAI_AGAIN      no answer from any DNS server in time (a temporary failure),
 *                  or the resolver's query slots all busy
 *   EAI_FAIL       every server failed (SERVFAIL, REFUSED) or none is known, or
 *                  a CNAME chain too long
 *   EAI_MEMORY     out of memory
 *   EAI_SYSTEM     a blocking wait that could never end (errno EDEADLK: the
 *                  simulation has nothing left to run)
 * and EAI_FAMILY, EAI_SOCKTYPE, EAI_BADFLAGS, EAI_SERVICE, EAI_ADDRFAMILY as
 * above.
 */
#ifndef TERN_NETDB_H
#define TERN_NETDB_H

#include <netdb.h>

#include "tern_socket.h"

int tern_getaddrinfo(tern_sockets *ts, const char *node, const char *service,
                     const struct addrinfo *hints, struct addrinfo **res);

/* tern_freeaddrinfo: free a list tern_getaddrinfo returned (NULL is fine). */
void tern_freeaddrinfo(struct addrinfo *res);

/* tern_gai_strerror: the text of an EAI_* code (the C library's). */
const char *tern_gai_strerror(int code);

#endif /* TERN_NETDB_H */
