/*
 * sdk_plugin_harness.h — compiles the whole C guest SDK natively into one
 * test program (include first, then the plugin's .c, then
 * sdk_mock_host.h).
 *
 * Owns:     the list of SDK translation units.
 * Not here: the mock host (sdk_mock_host.h).
 */
#include "../../sdk/c/proxy_wasm.c"
#include "../../sdk/c/px_auth.c"
#include "../../sdk/c/px_base64.c"
#include "../../sdk/c/px_crypto.c"
#include "../../sdk/c/px_hostcalls.c"
#include "../../sdk/c/px_json.c"
#include "../../sdk/c/px_jwt.c"
#include "../../sdk/c/px_pairs.c"
#include "../../sdk/c/px_resp.c"
#include "../../sdk/c/px_rules.c"
#include "../../sdk/c/px_text.c"

#include <ctype.h>
