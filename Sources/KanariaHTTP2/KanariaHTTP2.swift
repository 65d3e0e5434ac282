// KanariaHTTP2: nghttp2 session wrapper, bytes in → stream events out (being written).
