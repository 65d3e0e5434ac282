#include "CKanariaLinux.h"
