// System-library shim for CZlib: gzip-compressed ITCH files.
#pragma once
// No feature macros here: every C module must see glibc exactly as Swift's Glibc module does,
// or types such as fd_set differ between modules and cannot be mixed (see CLiburing).
#include <zlib.h>
