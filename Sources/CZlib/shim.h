// System-library shim for CZlib: gzip-compressed ITCH files.
#pragma once
// Every C module is compiled with the same feature macros; otherwise glibc types such as
// fd_set differ between modules (liburing.h turns on _GNU_SOURCE) and they cannot be mixed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <zlib.h>
