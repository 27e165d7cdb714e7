/* ProcessPrng, which every Windows 10 and 11 has in bcryptprimitives.dll and Rust's standard
 * library asks for its random numbers, for Wine 8.0 (Debian 12), which lacks that DLL: the same
 * bytes from RtlGenRandom. Only tests/windows-tool.sh puts it beside o4send.exe; the release
 * ships no DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, advapi32 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
