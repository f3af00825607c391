"""Clients of the CRI streaming server for the tests: SPDY/3.1 (what kubelet, crictl and client-go speak, written
here from the SPDY/3 draft: zlib header blocks primed with the draft's dictionary) and WebSocket (Debian's
python3-websocket) with Kubernetes' channel protocols; and a fake API server that lets kubectl itself stream."""
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
        self._start(rest, flow, window)

    def _start(self, rest, flow, window):
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


class SpdyOverWebSocket(Spdy):
    """SPDY/3.1 carried in WebSocket binary messages, as kubectl 1.30+ first asks for a port forward (client-go's
    tunneling dialer): the SPDY bytes are a stream inside the messages. Each write leaves as two binary messages,
    cut in the middle of the frame, to show that the server does not read message boundaries as frames."""

    PROTOCOL = "SPDY/3.1+portforward.k8s.io"

    def __init__(self, url, flow=False, window=65536):
        self.ws = websocket.create_connection(ws_url(url), subprotocols=[self.PROTOCOL], timeout=60)
        self.ws.settimeout(None)
        self.subprotocol = self.ws.getsubprotocol()
        self._start(b"", flow, window)

    def _write(self, b):
        with self.wlock:
            half = len(b) // 2
            if half > 0:
                self.ws.send_binary(b[:half])
            self.ws.send_binary(b[half:])

    def _recv(self, n):
        while len(self.inbuf) < n:
            try:
                op, data = self.ws.recv_data(control_frame=False)
            except websocket.WebSocketException as e:
                raise EOFError(str(e))
            if op == websocket.ABNF.OPCODE_CLOSE:
                raise EOFError("closed")
            if op != websocket.ABNF.OPCODE_BINARY:
                raise EOFError("a message of type %d in the tunnel" % op)
            self.inbuf += data
        out = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        return out

    def close(self):
        try:
            self.ws.close(timeout=5)
        except (websocket.WebSocketException, OSError):
            pass
        self.reader.join(10)


def spdy_exec(url, stdin=None, stdout=True, stderr=True, tty=False, protocol="v4.channel.k8s.io", flow=False):
    """Runs a remotecommand session as client-go does (error stream first); returns (stdout, stderr, error)."""
    c = Spdy(url, protocol, flow=flow)
    try:
        err = c.open({"streamtype": "error"})
        sin = c.open({"streamtype": "stdin"}) if stdin is not None else None
        sout = c.open({"streamtype": "stdout"}) if stdout else None
        serr = c.open({"streamtype": "stderr"}) if stderr and not tty else None
        if tty and protocol not in ("channel.k8s.io", "v2.channel.k8s.io"):  # v3 and later: client-go's resize stream
            c.open({"streamtype": "resize"})
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


class FakeApiServer:
    """Just enough of a Kubernetes API server for kubectl exec/attach/port-forward against one pod: it answers the pod
    and, as kubelet does, turns each streaming request into a CRI call and proxies the upgraded connection to the URL
    the runtime answered (so kubectl's own client-go speaks to isulad's streaming server)."""

    def __init__(self, cri, pod_id, containers):
        self.cri, self.pod_id, self.containers = cri, pod_id, containers
        self.upgrades = []  # (kind, Upgrade header, protocols asked) of every streaming request proxied
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _reply(c, status, obj):
        body = json.dumps(obj).encode()
        c.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                  % (status, len(body)) + body)

    def _pod(self, name):
        return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": "default", "uid": "u"},
                "spec": {"containers": [{"name": n, "image": "busybox"} for n in self.containers]},
                "status": {"phase": "Running"}}

    def _stream_url(self, kind, q):
        flag = lambda k: q.get(k, ["false"])[0] in ("1", "true")  # noqa: E731
        cid = self.containers[q.get("container", [next(iter(self.containers))])[0]]
        pb, rt = self.cri.pb, self.cri.rt
        if kind == "exec":
            req = pb.ExecRequest(container_id=cid, cmd=q.get("command", []), stdin=flag("stdin"),
                                 stdout=flag("stdout"), stderr=flag("stderr"), tty=flag("tty"))
            return rt.Exec(req, timeout=30).url
        if kind == "attach":
            return rt.Attach(pb.AttachRequest(container_id=cid, stdin=flag("stdin"), stdout=flag("stdout"),
                                              stderr=flag("stderr"), tty=flag("tty")), timeout=30).url
        ports = [int(p) for p in q.get("ports", [])]
        return rt.PortForward(pb.PortForwardRequest(pod_sandbox_id=self.pod_id, port=ports), timeout=30).url

    def _serve(self, c):
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = c.recv(4096)
                if not chunk:
                    return
                buf += chunk
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            u = urllib.parse.urlsplit(target)
            parts = u.path.strip("/").split("/")
            q = urllib.parse.parse_qs(u.query)
            if len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods" and \
                    parts[6] in ("exec", "attach", "portforward"):
                h = dict((k.strip().lower(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:]))
                self.upgrades.append((parts[6], h.get("upgrade", ""), h.get("sec-websocket-protocol",
                                                                            h.get("x-stream-protocol-version", ""))))
                self._proxy(c, method, lines[1:], rest, self._stream_url(parts[6], q))
            elif len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
                self._reply(c, 200, self._pod(parts[5]))
            elif u.path == "/api":
                self._reply(c, 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
            elif u.path == "/api/v1":
                self._reply(c, 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"],
                     "shortNames": ["po"]},
                    {"name": "pods/exec", "singularName": "", "namespaced": True, "kind": "PodExecOptions",
                     "verbs": ["create", "get"]},
                    {"name": "pods/portforward", "singularName": "", "namespaced": True,
                     "kind": "PodPortForwardOptions", "verbs": ["create", "get"]}]})
            elif u.path == "/apis":
                self._reply(c, 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
            else:
                self._reply(c, 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                                     "reason": "NotFound", "message": "not here"})
        finally:
            c.close()

    @staticmethod
    def _proxy(c, method, header_lines, rest, url):
        u = urllib.parse.urlsplit(url)
        up = socket.create_connection((u.hostname, u.port), timeout=60)
        hdrs = [ln for ln in header_lines if not ln.lower().startswith("host:")]
        up.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, u.path, u.netloc) + "".join(
            ln + "\r\n" for ln in hdrs) + "\r\n").encode() + rest)
        up.settimeout(None)
        c.settimeout(None)

        def pipe(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
            except OSError:
                pass
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        t = threading.Thread(target=pipe, args=(up, c), daemon=True)
        t.start()
        pipe(c, up)
        t.join()
        up.close()
