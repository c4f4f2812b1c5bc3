import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SCRIPTS_DIR } from "../../components/host-script";

const scratch = mkdtempSync(path.join(tmpdir(), "sparks-tls-lib-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs bash with lib/tls.sh loaded, in the scratch directory. */
function bash(script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-c", `set -euo pipefail\nfail() { echo "error: $*" >&2; exit 1; }\n. ${path.join(SCRIPTS_DIR, "lib/tls.sh")}\n${script}`], { cwd: scratch, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A CA, and a certificate it signs for SAN, valid DAYS; the one openssl recipe tls.sh uses. */
const issue = (name: string, san: string, days: number, ca = "ca") => `
[ -f ${ca}.key ] || { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${ca}.key 2>/dev/null; openssl req -new -x509 -key ${ca}.key -out ${ca}.crt -days 3650 -subj /CN=${ca} 2>/dev/null; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name}.key 2>/dev/null
openssl req -new -key ${name}.key -out ${name}.csr -subj /CN=x 2>/dev/null
printf 'subjectAltName=%s\\n' '${san}' > ${name}.ext
openssl x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -set_serial 0x01 -days ${days} -extfile ${name}.ext -out ${name}.crt 2>/dev/null`;

describe("lib/tls.sh", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["2001:db8::1", "2001:DB8:0:0:0:0:0:1"],
    ["::1", "0:0:0:0:0:0:0:1"],
    ["fd00:0a:0::", "FD00:A:0:0:0:0:0:0"],
  ])("writes %s as OpenSSL prints it in a subjectAltName", (address, form) => {
    expect(bash(`openssl_ip_form ${address}`).stdout).toBe(`${form}\n`);
  });

  it("re-issues exactly when the certificate is missing, foreign, due, names other addresses or mismatches its key", () => {
    const want = "10.0.0.5\n2001:DB8:0:0:0:0:0:1";
    const reason = (cert: string, key: string, renewDays = 30) => bash(`reissue_reason ${cert}.crt ${key}.key ca.crt ${renewDays} $'${want.replace("\n", "\\n")}'`);
    const setup = bash([issue("good", "IP:2001:db8::1,IP:10.0.0.5", 90), issue("short", "IP:10.0.0.5,IP:2001:db8::1", 20), issue("other", "IP:10.0.0.6", 90), issue("foreign", "IP:10.0.0.5,IP:2001:db8::1", 90, "otherca")].join("\n"));
    expect(setup.stderr).toBe("");
    expect(reason("good", "good").stdout).toBe("");
    expect(reason("missing", "good").stdout).toBe("no server certificate yet\n");
    expect(reason("foreign", "foreign").stdout).toBe("the server certificate is not signed by the host CA\n");
    expect(reason("short", "short").stdout).toMatch(/^the server certificate expires within 30 days \(notAfter=/);
    expect(reason("short", "short", 10).stdout).toBe("");
    expect(reason("other", "other").stdout).toBe("the server certificate names 10.0.0.6, not 10.0.0.5 2001:DB8:0:0:0:0:0:1\n");
    expect(reason("good", "short").stdout).toBe("the server key does not match the server certificate\n");
  });
});
