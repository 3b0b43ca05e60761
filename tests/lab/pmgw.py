#!/usr/bin/env python3
"""pmgw.py ADDR EXTERNAL [HTTP_PORT] - a scripted port-mapping gateway for the lab.

miniupnpd refuses to report a reserved external address, and the lab's
addresses are all documentation ranges, so no real daemon can show natcheck
a gateway with a public external address.  This stand-in speaks the real
wire formats, read-only like natcheck asks:
  UDP ADDR:5351   NAT-PMP opcode 0 (RFC 6886): result 0, EXTERNAL
                  PCP ANNOUNCE (RFC 6887): result SUCCESS
  UDP ADDR:1900   and the SSDP group on ADDR's interface: an M-SEARCH for an
                  InternetGatewayDevice gets a 200 with LOCATION
  TCP ADDR:PORT   GET /rootDesc.xml: an IGD description with WANIPConnection:1;
                  POST /ctl/IPConn GetExternalIPAddress: EXTERNAL
Anything else (other opcodes, other SOAP actions) is answered with an error.
Every request is logged on stdout as "pmgw: KIND" (natpmp-external,
pcp-announce, m-search, get-description, soap-GetExternalIPAddress) or
"pmgw: refused ...", so a test can prove what a client asked.
"""
import select
import signal
import socket
import struct
import sys
import time

addr, external = sys.argv[1], sys.argv[2]
http_port = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
epoch0 = time.monotonic()
counts = {"requests": 0, "refused": 0}

DESC = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>natcheck lab gateway</friendlyName>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
<controlURL>/ctl/L3F</controlURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL>
</service></serviceList></device></deviceList></device></deviceList></device></root>
"""

SOAP = ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        '<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">'
        '<NewExternalIPAddress>%s</NewExternalIPAddress></u:GetExternalIPAddressResponse>'
        '</s:Body></s:Envelope>\r\n')


def log(kind):
    print("pmgw: " + kind, flush=True)


def stop(*_):
    print("pmgw: requests %d refused %d" % (counts["requests"], counts["refused"]), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)


def epoch():
    return int(time.monotonic() - epoch0)


def pmp_answer(data):
    counts["requests"] += 1
    if len(data) >= 2 and data[0] == 0 and data[1] == 0:
        log("natpmp-external")
        return struct.pack("!BBHI", 0, 128, 0, epoch()) + socket.inet_aton(external)
    if len(data) >= 24 and data[0] == 2 and data[1] == 0:
        # PCP ANNOUNCE: the response header, result SUCCESS, no options.
        log("pcp-announce")
        return struct.pack("!BBBBII", 2, 0x80, 0, 0, 0, epoch()) + bytes(12)
    counts["refused"] += 1
    log("refused udp %s" % data[:2].hex())
    if len(data) >= 2 and data[0] == 0:     # another NAT-PMP opcode: refused (2)
        return struct.pack("!BBHI", 0, 128 + (data[1] & 0x7f), 2, epoch()) + bytes(4)
    if len(data) >= 2 and data[0] == 2:     # another PCP opcode: UNSUPP_OPCODE
        return struct.pack("!BBBBII", 2, 0x80 | (data[1] & 0x7f), 0, 4, 0, epoch()) + bytes(12)
    return None


def ssdp_answer(data):
    text = data.decode("latin-1")
    if not text.startswith("M-SEARCH") or "InternetGatewayDevice" not in text:
        return None
    counts["requests"] += 1
    log("m-search")
    return ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
            "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            "USN: uuid:00000000-0000-0000-0000-000000000001::urn:schemas-upnp-org:device:"
            "InternetGatewayDevice:1\r\nEXT:\r\nSERVER: natcheck-lab/1 UPnP/1.0 pmgw/1\r\n"
            "LOCATION: http://%s:%d/rootDesc.xml\r\n\r\n" % (addr, http_port)).encode()


def http_answer(req):
    counts["requests"] += 1
    head, _, _ = req.partition(b"\r\n\r\n")
    line = head.split(b"\r\n")[0].decode("latin-1")
    if line.startswith("GET /rootDesc.xml "):
        log("get-description")
        body, status = DESC.encode(), "200 OK"
    elif line.startswith("POST /ctl/IPConn ") and b"#GetExternalIPAddress\"" in head:
        log("soap-GetExternalIPAddress")
        body, status = (SOAP % external).encode(), "200 OK"
    else:
        counts["refused"] += 1
        log("refused http %s" % line)
        body, status = b"", "404 Not Found"
    return ("HTTP/1.1 %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (status, len(body))).encode() + body


pmp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
pmp.bind((addr, 5351))
ssdp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ssdp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ssdp.bind(("0.0.0.0", 1900))
ssdp.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                socket.inet_aton("239.255.255.250") + socket.inet_aton(addr))
web = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
web.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
web.bind((addr, http_port))
web.listen(8)
print("pmgw: ready", flush=True)

deadline = time.monotonic() + 3600
while time.monotonic() < deadline:
    ready, _, _ = select.select([pmp, ssdp, web], [], [], 1.0)
    for s in ready:
        if s is web:
            conn, _ = web.accept()
            conn.settimeout(2.0)
            req = b""
            try:
                while b"\r\n\r\n" not in req and len(req) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    req += chunk
                head, _, rest = req.partition(b"\r\n\r\n")
                for h in head.split(b"\r\n"):
                    if h.lower().startswith(b"content-length:"):
                        want = int(h.split(b":", 1)[1])
                        while len(rest) < want:
                            chunk = conn.recv(4096)
                            if not chunk:
                                break
                            rest += chunk
                conn.sendall(http_answer(req))
            except (OSError, ValueError):
                pass
            conn.close()
            continue
        data, peer = s.recvfrom(2048)
        out = pmp_answer(data) if s is pmp else ssdp_answer(data)
        if out is not None:
            (pmp if s is pmp else ssdp).sendto(out, peer)
