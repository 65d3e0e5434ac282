#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "CKanariaLinux.h"

int ckanaria_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}

int ckanaria_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int ckanaria_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
}

uint64_t ckanaria_random64(void) {
    uint64_t value = 0;
    if (getrandom(&value, sizeof(value), 0) != sizeof(value)) value = (uint64_t)(uintptr_t)&value ^ 0x9E3779B97F4A7C15ull;
    return value;
}
