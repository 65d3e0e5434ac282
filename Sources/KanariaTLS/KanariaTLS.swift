// KanariaTLS: OpenSSL server-side TLS with ALPN over the proxy's own buffers (being written).
