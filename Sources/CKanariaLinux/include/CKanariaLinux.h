// Linux system interfaces that Glibc's Swift module does not export: epoll, eventfd, timerfd, and a few
// socket helpers whose macros Swift cannot import. Nothing here holds logic; KanariaPosix wraps it.
#ifndef CKANARIA_LINUX_H
#define CKANARIA_LINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>

/// errno of the calling thread (Swift cannot read the thread-local macro directly on every libc).
static inline int ckanaria_errno(void) { return errno; }

/// The data word of an epoll_event (a packed union Swift imports awkwardly).
static inline uint64_t ckanaria_epoll_event_data(const struct epoll_event *event) { return event->data.u64; }
static inline uint32_t ckanaria_epoll_event_events(const struct epoll_event *event) { return event->events; }

static inline int ckanaria_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event);
}

/// accept4, pthread_setname_np, sched_getaffinity and getrandom need _GNU_SOURCE, which Swift's Glibc module is
/// not built with; shim.c defines it and forwards.
int ckanaria_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
int ckanaria_set_thread_name(const char *name);
int ckanaria_cpu_count(void);
uint64_t ckanaria_random64(void);

#endif
