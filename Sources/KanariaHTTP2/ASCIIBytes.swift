import KanariaHTTP

/// The byte helpers of KanariaHTTP, under the short name this module uses.
typealias Bytes = HTTPBytes
