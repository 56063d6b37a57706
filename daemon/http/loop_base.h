// The ingest loop's libevent base.
//
// epoll with libevent's changelist: the changes a loop iteration makes to a
// socket's events (evhttp turns reading off while a request is answered and
// on again after the reply, and writing on and off around the reply) are
// merged and handed to the kernel as at most one epoll_ctl per socket at the
// end of the iteration, instead of one per change. Under the ingest bench
// epoll_ctl was a quarter of the loop thread's samples (system calls are
// dear on the development VM); with the changelist the loop's CPU per CDR
// went from 68-72 to 62 µs and acks/s up by 15% (bench/README.md).
// libevent's caveat for the changelist is a file descriptor shared through
// dup(); the loop never dups one. libevent's EVENT_* environment variables
// (EVENT_NOEPOLL, ...) still apply.
#pragma once

struct event_base;

namespace cdrd {

// A new base with epoll's changelist, or libevent's default base where the
// changelist cannot be had (no epoll). nullptr only if libevent cannot make
// a base at all.
event_base* new_loop_base();

}  // namespace cdrd
