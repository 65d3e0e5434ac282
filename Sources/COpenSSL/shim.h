// OpenSSL 3 (Debian's libssl-dev), as a Swift system library: TLS termination with ALPN.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

// Functions for the OpenSSL APIs that are macros (SSL_CTX_ctrl and friends, SSL_OP_BIT, BIO flag helpers), which
// Swift cannot import. Each one does exactly what the macro of the same name does.

static inline int kanaria_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int kanaria_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long kanaria_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long kanaria_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/// Takes ownership of `x509` on success.
static inline int kanaria_SSL_CTX_add0_chain_cert(SSL_CTX *ctx, X509 *x509) {
    return (int)SSL_CTX_add0_chain_cert(ctx, x509);
}

/// The server-side options Kanaria sets: no TLS 1.2 renegotiation (a client-driven CPU cost with no use for HTTP),
/// and the server's cipher order for TLS 1.2.
static inline uint64_t kanaria_SSL_OP_server_defaults(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}

static inline uint64_t kanaria_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }

/// Installs `callback(ssl, alert, argument)`, called with the ClientHello's SNI before a certificate is chosen.
static inline void kanaria_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *),
                                                                  void *argument) {
    SSL_CTX_set_tlsext_servername_callback(ctx, callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, argument);
}

static inline void kanaria_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }

static inline void kanaria_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }

/// Client side (tests, and any future upstream TLS): the SNI host name.
static inline int kanaria_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
