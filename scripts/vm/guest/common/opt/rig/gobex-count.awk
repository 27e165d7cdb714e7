# gobex-count.awk OBEXD_LOG: what obexd's client did on one push, in the words of o4send's
# "push link:" line, from obexd's debug log (-d: "transport_connect() port N", a PSM when N > 31)
# and gobex's packet dump (GOBEX_DEBUG=command,data: "< 0000:" starts each packet written,
# "> 0000:" each packet read, "SRM Enabled" when both sides agreed). Run in the guest: the dump of
# a 1 MiB push is 4.5 MB, too much to copy through the rig's console socket. (obexd-client.sh)
# Plain POSIX awk (the guest has mawk): hex by hand.
function hex(s,    i, n) {
    n = 0
    for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(tolower(s), i, 1)) - 1
    return n
}
/transport_connect\(\) port/ { p = $NF; t = (p > 31) ? "l2cap psm=" p : "rfcomm channel=" p }
/SRM Enabled/ { srm = "on" }
$1 == "<" && $2 ~ /^0000:/ {
    n++; op = substr($2, 6, 2); len = hex($3 $4); bytes += len
    if (op == "02" || op == "82") put++
    if (len > big) big = len
}
$1 == ">" && $2 ~ /^0000:/ { rt++; if (substr($2, 6, 2) == "a0" && !size) size = hex($7 $8) }
END {
    if (!srm) srm = (put > rt) ? "on (more PUTs than answers)" : "off"
    printf "transport=%s obex_packet_size=%d largest_packet=%d srm=%s obex_packets=%d put_packets=%d round_trips=%d obex_bytes=%d\n",
        t ? t : "?", size, big, srm, n, put, rt, bytes
}
