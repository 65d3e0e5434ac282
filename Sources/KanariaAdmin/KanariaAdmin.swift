// KanariaAdmin: the admin endpoints and the live dashboard (being written).
