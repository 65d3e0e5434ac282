// nghttp2 (Debian's libnghttp2-dev, 1.52 with the rapid-reset and CONTINUATION fixes), as a Swift system library.
#include <nghttp2/nghttp2.h>
