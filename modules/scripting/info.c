/*
 * info.c: the scripting fields of INFO memory, as Redis 7.0 shows them. Each thread publishes
 * its own counters (env.c's allocator, cache.c); this sums them. The functions' figures come
 * from the library registry's current snapshot. Lua's bytes are those of both a thread's
 * states (EVAL's and the functions'), so used_memory_vm_functions is 0 and used_memory_vm_eval
 * holds them all.
 */
#include <stdatomic.h>

#include "functions.h"
#include "scripting.h"

_Atomic size_t sc_pub_mem[SC_MAX_THREADS], sc_pub_scripts[SC_MAX_THREADS],
    sc_pub_script_bytes[SC_MAX_THREADS];

void sc_info_memory(dfm_info_t *info) {
    size_t vm = 0, scripts = 0, script_bytes = 0, fn_bytes = 0;
    for (int i = 0; i < SC_MAX_THREADS; i++) {
        vm += atomic_load_explicit(&sc_pub_mem[i], memory_order_relaxed);
        size_t n = atomic_load_explicit(&sc_pub_scripts[i], memory_order_relaxed);
        size_t b = atomic_load_explicit(&sc_pub_script_bytes[i], memory_order_relaxed);
        if (n > scripts) scripts = n; /* every thread holds a copy of the cache */
        if (b > script_bytes) script_bytes = b;
    }
    const sc_reg_t *reg = sc_reg_get();
    int nlibs = reg ? reg->nlibs : 0, nfns = reg ? reg->nfns : 0;
    for (int i = 0; i < nlibs; i++) fn_bytes += reg->libs[i]->code_len;
    sc_api->info_field(info, "used_memory_lua", "%zu", vm);
    sc_api->info_field(info, "used_memory_vm_eval", "%zu", vm);
    sc_api->info_field_human(info, "used_memory_lua_human", vm);
    sc_api->info_field(info, "used_memory_scripts_eval", "%zu", script_bytes);
    sc_api->info_field(info, "number_of_cached_scripts", "%zu", scripts);
    sc_api->info_field(info, "number_of_functions", "%d", nfns);
    sc_api->info_field(info, "number_of_libraries", "%d", nlibs);
    sc_api->info_field(info, "used_memory_vm_functions", "0");
    sc_api->info_field(info, "used_memory_vm_total", "%zu", vm);
    sc_api->info_field_human(info, "used_memory_vm_total_human", vm);
    sc_api->info_field(info, "used_memory_functions", "%zu", fn_bytes);
    sc_api->info_field(info, "used_memory_scripts", "%zu", script_bytes + fn_bytes);
    sc_api->info_field_human(info, "used_memory_scripts_human", script_bytes + fn_bytes);
}
