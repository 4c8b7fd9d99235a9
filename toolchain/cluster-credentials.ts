/**
 * The local cluster's credentials, made once with openssl in its directory: its CA, the API server's and the
 * answerers' serving certificates, the service-account signing key, and the admin's token and kubeconfig.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/**
 * Makes `<name>.key` and `<name>.crt` in the cluster's directory: a serving certificate for
 * `subjectAltName` (e.g. "IP:127.0.0.1"), signed by the cluster's CA (ca.crt, ca.key).
 */
export function signCertificate(dir: string, name: string, subject: string, subjectAltName: string): void {
    openssl(dir, [
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        subject,
    ]);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${subjectAltName}\n`);
    openssl(dir, [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "3650",
        "-extfile",
        `${name}.ext`,
    ]);
}

/** A CA, a serving certificate for 127.0.0.1, a service-account key pair and an admin token. */
export function makeCredentials(dir: string): string {
    openssl(dir, [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=serverless-platform-local-ca",
    ]);
    signCertificate(dir, "apiserver", "/CN=kube-apiserver", "IP:127.0.0.1,DNS:localhost");
    openssl(dir, ["genrsa", "-out", "sa.key", "2048"]);
    openssl(dir, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
    const token = execFileSync("openssl", ["rand", "-hex", "24"], { encoding: "utf8" }).trim();
    writeFileSync(join(dir, "tokens.csv"), `${token},local-admin,local-admin,system:masters\n`, { mode: 0o600 });
    return token;
}

/** A kubeconfig of the cluster's admin, as JSON (which is YAML). */
export function kubeconfigOf(api: string, ca: string, token: string): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: "local",
                cluster: { server: api, "certificate-authority-data": Buffer.from(ca).toString("base64") },
            },
        ],
        users: [{ name: "local-admin", user: { token } }],
        contexts: [{ name: "local", context: { cluster: "local", user: "local-admin" } }],
        "current-context": "local",
    });
}
