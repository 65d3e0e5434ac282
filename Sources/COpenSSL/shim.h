// OpenSSL 3 (Debian's libssl-dev), as a Swift system library: TLS termination with ALPN.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
