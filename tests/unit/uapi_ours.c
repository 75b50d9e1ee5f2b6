// SPDX-License-Identifier: MIT
/* The uapi tables of our own header, src/uapi/ublk_abi.h. */
#include "uapi/ublk_abi.h"

#define UAPI_HEADER_NAME "src/uapi/ublk_abi.h"
#include "uapi_names.h"

UAPI_TABLES(ours);
