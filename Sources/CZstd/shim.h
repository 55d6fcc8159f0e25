// System-library shim for CZstd: the header Swift imports from the Debian package.
#pragma once
// No feature macros here: every C module must see glibc exactly as Swift's Glibc module does,
// or types such as fd_set differ between modules and cannot be mixed (see CLiburing).
#include <zstd.h>
