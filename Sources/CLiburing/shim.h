// System-library shim for CLiburing: the header Swift imports from the Debian package.
#pragma once
// liburing.h defines _XOPEN_SOURCE and _GNU_SOURCE before its own includes. Had those reached
// glibc's features.h first, fd_set & co. would be declared differently here than in Swift's
// Glibc module (fds_bits vs __fds_bits) and modules importing both would not build. Including
// glibc's headers first fixes the feature set to Glibc's; liburing needs nothing beyond it
// (sigset_t and cpu_set_t are declared under the default feature set).
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <signal.h>
#include <sched.h>
#include <time.h>
#include <liburing.h>
