// System-library shim for CLibpq: the header Swift imports from the Debian package.
#pragma once
// Every C module is compiled with the same feature macros; otherwise glibc types such as
// fd_set differ between modules (liburing.h turns on _GNU_SOURCE) and they cannot be mixed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <libpq-fe.h>
