/* Test-machine only (never shipped): Wine 8.0's bcryptprimitives.dll lacks ProcessPrng, which Rust >= 1.78
 * programs import (python-calamine, cryptography). Fill the buffer through RtlGenRandom (SystemFunction036). */
#include <windows.h>

typedef BOOLEAN (WINAPI *gen_random_fn)(PVOID, ULONG);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    static gen_random_fn gen;
    if (!gen) {
        HMODULE advapi = LoadLibraryA("advapi32.dll");
        gen = advapi ? (gen_random_fn)GetProcAddress(advapi, "SystemFunction036") : NULL;
        if (!gen) return FALSE;
    }
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!gen(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
