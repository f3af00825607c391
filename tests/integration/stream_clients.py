"""Clients of the CRI streaming server for the tests: SPDY/3.1 (what kubelet, crictl and client-go speak, written
here from the SPDY/3 draft: zlib header blocks primed with the draft's dictionary) and WebSocket (Debian's
python3-websocket) with Kubernetes' channel protocols."""
import json
import socket
import struct
import threading
import urllib.parse
import zlib

import websocket

_WORDS = ("options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges "
          "age allow authorization cache-control connection content-base content-encoding content-language "
          "content-length content-location content-md5 content-range content-type date etag expect expires from "
          "host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location "
          "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer "
          "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status").split() + [
    "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
         "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
         "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
         "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
         "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
SPDY_DICT = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()
assert len(SPDY_DICT) == 1423

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9


def http_exchange(url, headers, method="POST", raw=None):
    """Sends a request head to the streaming URL; returns (socket, status, response headers dict, rest bytes)."""
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=60)
    if raw is None:
        path = u.path + ("?" + u.query if u.query else "")
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (u.hostname, u.port)]
        lines += ["%s: %s" % kv for kv in headers]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    s.sendall(raw)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return s, status, hdrs, rest


def http_status(url, headers, method="POST", raw=None):
    s, status, hdrs, rest = http_exchange(url, headers, method, raw)
    s.close()
    return status


class SpdyStream:
    def __init__(self, sid):
        self.sid = sid
        self.data = bytearray()
        self.fin = False
        self.reset = False
        self.replied = False


class Spdy:
    """A SPDY/3.1 client connection on an upgraded streaming URL. flow=True announces a window (SETTINGS) and
    gives it back only as the test reads, so the server must keep to it."""

    def __init__(self, url, protocol="v4.channel.k8s.io", flow=False, window=65536):
        hdrs = [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]
        if protocol:
            hdrs.append(("X-Stream-Protocol-Version", protocol))
        self.sock, self.status, self.headers, rest = http_exchange(url, hdrs)
        if self.status != 101:
            self.sock.close()
            raise RuntimeError("upgrade refused: %d" % self.status)
        self.sock.settimeout(None)
        self.comp = zlib.compressobj(zdict=SPDY_DICT)
        self.decomp = zlib.decompressobj(zdict=SPDY_DICT)
        self.next_id = 1
        self.streams = {}
        self.cond = threading.Condition()
        self.goaway = False
        self.closed = False
        self.flow = flow
        self.wlock = threading.Lock()
        self.inbuf = bytearray(rest)
        if flow:
            self._control(SETTINGS, 0, struct.pack(">IBBBBI", 1, 0, 0, 0, 7, window))
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _write(self, b):
        with self.wlock:
            self.sock.sendall(b)

    def _control(self, ftype, flags, payload):
        self._write(struct.pack(">HHI", 0x8003, ftype, (flags << 24) | len(payload)) + payload)

    def _block(self, headers):
        raw = struct.pack(">I", len(headers))
        for k, v in headers.items():
            raw += struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
        return self.comp.compress(raw) + self.comp.flush(zlib.Z_SYNC_FLUSH)

    def open(self, headers, fin=False):
        """Opens a stream with these headers (lower-case names) and waits for the server's SYN_REPLY."""
        with self.cond:
            sid = self.next_id
            self.next_id += 2
            st = SpdyStream(sid)
            self.streams[sid] = st
        payload = struct.pack(">IIH", sid, 0, 0) + self._block(headers)
        self._control(SYN_STREAM, 1 if fin else 0, payload)
        with self.cond:
            assert self.cond.wait_for(lambda: st.replied or st.reset or self.closed, 60)
        return st

    def send(self, st, data, fin=False):
        for i in range(0, max(len(data), 1), 16384):
            chunk = data[i:i + 16384]
            last = fin and i + 16384 >= len(data)
            self._write(struct.pack(">II", st.sid, ((1 if last else 0) << 24) | len(chunk)) + chunk)
        if fin and not data:
            self._write(struct.pack(">II", st.sid, 1 << 24))

    def reset(self, st, status=5):
        """RST_STREAM (CANCEL by default), as client-go does with the streams it is done with."""
        self._control(RST_STREAM, 0, struct.pack(">II", st.sid, status))

    def ping(self, n=1):
        self._control(PING, 0, struct.pack(">I", n))

    def _recv(self, n):
        while len(self.inbuf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.inbuf += chunk
        out = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        return out

    def _read_loop(self):
        try:
            while True:
                hdr = self._recv(8)
                length = struct.unpack(">I", b"\0" + hdr[5:8])[0]
                flags = hdr[4]
                payload = self._recv(length)
                if hdr[0] & 0x80:
                    self._on_control(struct.unpack(">H", hdr[2:4])[0], flags, payload)
                else:
                    self._on_data(struct.unpack(">I", hdr[0:4])[0] & 0x7fffffff, flags, payload)
        except (EOFError, OSError) as e:
            self.error = e
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _on_control(self, ftype, flags, payload):
        with self.cond:
            if ftype == SYN_REPLY:
                sid = struct.unpack(">I", payload[:4])[0] & 0x7fffffff
                self.decomp.decompress(payload[4:])
                self.streams[sid].replied = True
                if flags & 1:
                    self.streams[sid].fin = True
            elif ftype == RST_STREAM:
                sid = struct.unpack(">I", payload[:4])[0] & 0x7fffffff
                if sid in self.streams:
                    self.streams[sid].reset = True
            elif ftype == GOAWAY:
                self.goaway = True
            elif ftype == PING:
                self.pings = getattr(self, "pings", []) + [struct.unpack(">I", payload)[0]]
            self.cond.notify_all()

    def _on_data(self, sid, flags, payload):
        with self.cond:
            st = self.streams.get(sid)
            if st is not None:
                st.data += payload
                if flags & 1:
                    st.fin = True
            self.cond.notify_all()
        if self.flow and payload:
            self._control(WINDOW_UPDATE, 0, struct.pack(">II", sid, len(payload)))
            self._control(WINDOW_UPDATE, 0, struct.pack(">II", 0, len(payload)))

    def wait(self, pred, timeout=60):
        with self.cond:
            return self.cond.wait_for(pred, timeout)

    def read_until_fin(self, st, timeout=60):
        assert self.wait(lambda: st.fin or st.reset or self.closed, timeout)
        return bytes(st.data)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.reader.join(10)


def spdy_exec(url, stdin=None, stdout=True, stderr=True, tty=False, protocol="v4.channel.k8s.io", flow=False):
    """Runs a remotecommand session as client-go does (error stream first); returns (stdout, stderr, error)."""
    c = Spdy(url, protocol, flow=flow)
    try:
        err = c.open({"streamtype": "error"})
        sin = c.open({"streamtype": "stdin"}) if stdin is not None else None
        sout = c.open({"streamtype": "stdout"}) if stdout else None
        serr = c.open({"streamtype": "stderr"}) if stderr and not tty else None
        if sin is not None:
            c.send(sin, stdin, fin=True)
        out = c.read_until_fin(sout) if sout else b""
        errb = c.read_until_fin(serr) if serr else b""
        status = c.read_until_fin(err)
        return out, errb, status
    finally:
        c.close()


def ws_url(url):
    return "ws" + url[len("http"):]


class Ws:
    """A WebSocket channel connection: messages gathered per channel until the server closes."""

    def __init__(self, url, protocol="v4.channel.k8s.io"):
        self.ws = websocket.create_connection(ws_url(url), subprotocols=[protocol] if protocol else None, timeout=60)
        self.protocol = protocol
        self.base64 = protocol is not None and "base64" in protocol
        self.channels = {}
        self.firsts = {}

    def send(self, ch, data):
        if self.base64:
            import base64
            self.ws.send(str(ch) + base64.b64encode(data).decode())
        else:
            self.ws.send_binary(bytes([ch]) + data)

    def recv_one(self):
        """One message: (channel, data), or None when the server closed."""
        import base64
        op, data = self.ws.recv_data(control_frame=False)
        if op == websocket.ABNF.OPCODE_CLOSE:
            return None
        if self.base64:
            return int(chr(data[0])), base64.b64decode(data[1:])
        return data[0], data[1:]

    def read_all(self):
        while True:
            try:
                m = self.recv_one()
            except websocket.WebSocketConnectionClosedException:
                m = None
            if m is None:
                return self.channels
            ch, data = m
            self.firsts.setdefault(ch, data)
            self.channels[ch] = self.channels.get(ch, b"") + data

    def close(self):
        self.ws.close()


def status_of(raw):
    return json.loads(raw.decode()) if raw else None
