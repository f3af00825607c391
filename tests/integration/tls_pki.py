"""Certificates for the TLS tests, made with the openssl CLI: a CA, a server certificate for 127.0.0.1, two
clients ("alice", "bob"), an expired client, and a client signed by another CA. Each client is laid out as a
Docker/iSulad cert dir: <dir>/<name>/{ca.pem,cert.pem,key.pem}."""
import os
import shutil
import subprocess


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True)


class TlsPki:
    def __init__(self, d, ec=False):
        """ec: ECDSA P-256 keys instead of RSA 2048."""
        self.dir = d
        self.newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if ec else ["-newkey", "rsa:2048"]
        self.ca_key, self.ca_crt = self._ca("ca", "/CN=isulad tls test CA")
        self.other_ca_key, self.other_ca_crt = self._ca("other-ca", "/CN=some other CA")
        self.server_crt, self.server_key = self.issue("server", "/CN=127.0.0.1",
                                                      "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                                      "extendedKeyUsage=serverAuth\n")
        for name in ("alice", "bob"):
            self.client_dir(name, *self.issue(name, "/CN=" + name, "extendedKeyUsage=clientAuth\n"))
        self.client_dir("expired", *self.issue_expired("expired", "/CN=expired"))
        self.client_dir("stranger", *self.issue("stranger", "/CN=stranger", "extendedKeyUsage=clientAuth\n",
                                                 ca=(self.other_ca_crt, self.other_ca_key)))

    def _ca(self, name, subj):
        key, crt = os.path.join(self.dir, name + ".key"), os.path.join(self.dir, name + ".pem")
        run("openssl", "req", "-x509", *self.newkey, "-nodes", "-keyout", key, "-out", crt, "-days", "2",
            "-subj", subj)
        return key, crt

    def issue(self, name, subj, ext, ca=None):
        ca_crt, ca_key = ca or (self.ca_crt, self.ca_key)
        key, csr = os.path.join(self.dir, name + ".key"), os.path.join(self.dir, name + ".csr")
        crt, extf = os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, name + ".ext")
        with open(extf, "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        run("openssl", "req", *self.newkey, "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
            "-days", "2", "-extfile", extf)
        return crt, key

    def issue_expired(self, name, subj):
        """Valid from 2020-01-01 to 2020-01-02 (openssl ca sets explicit dates)."""
        key, csr = os.path.join(self.dir, name + ".key"), os.path.join(self.dir, name + ".csr")
        crt, conf = os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, "ca.cnf")
        db = os.path.join(self.dir, "index.txt")
        open(db, "w").close()
        with open(conf, "w") as f:
            f.write("[ca]\ndefault_ca=c\n[c]\ndatabase=%s\nnew_certs_dir=%s\nserial=%s\ndefault_md=sha256\n"
                    "policy=p\nunique_subject=no\n[p]\ncommonName=supplied\n[x]\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=clientAuth\n" % (db, self.dir, os.path.join(self.dir, "serial")))
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        run("openssl", "req", *self.newkey, "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
        run("openssl", "ca", "-batch", "-config", conf, "-cert", self.ca_crt, "-keyfile", self.ca_key, "-in", csr,
            "-out", crt, "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extensions", "x",
            "-notext")
        return crt, key

    def client_dir(self, name, crt, key):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(self.ca_crt, os.path.join(d, "ca.pem"))
        shutil.copy(crt, os.path.join(d, "cert.pem"))
        shutil.copy(key, os.path.join(d, "key.pem"))
        return d

    def path(self, name):
        return os.path.join(self.dir, name)
