import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const HOST_TOOLS = path.resolve(__dirname, "../../host-tools");

/** Runs python3 against the host tool's own modules (as on the host), printing what `body` prints. */
function python(body: string): string {
  const result = spawnSync("python3", ["-c", body], { cwd: HOST_TOOLS, encoding: "utf8" });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

const PG_CONFIG = { version: 15, root: "/srv/sparks/pg", listen: "10.0.0.5", clients: ["10.20.0.0/16", "192.168.1.0/24"], ports: [25432, 25499], min_free_bytes: 0, fork_limit_bytes: 0 };
const REDIS_CONFIG = { root: "/srv/sparks/redis", listen: "10.0.0.5", clients: [], ports: [26300, 26319], appendfsync: "everysec", save: "", maxmemory: 0, maxmemory_policy: "noeviction", min_free_bytes: 0, fork_limit_bytes: 0 };

const withService = (module: string, cls: string, config: object, expression: string) =>
  python(`import json\nfrom sparks_host.${module} import ${cls}\ns = ${cls}()\ns._config = json.loads(${JSON.stringify(JSON.stringify(config))})\nprint(${expression})`);

describe("spark-pg renders TLS-only access", () => {
  it("admits TCP clients only over TLS with a password: the host itself, then each client network", () => {
    const hba = withService("pg", "PostgresService", PG_CONFIG, "s.render_hba()");
    const rules = hba.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    expect(rules).toEqual([
      "local   all       postgres                    peer",
      "hostssl all       all       10.0.0.5/32       scram-sha-256",
      "hostssl all       all       10.20.0.0/16      scram-sha-256",
      "hostssl all       all       192.168.1.0/24    scram-sha-256",
    ]);
    expect(hba).not.toMatch(/^host\s/m);
  });

  it("an IPv6 listen address admits itself as a /128", () => {
    const hba = withService("pg", "PostgresService", { ...PG_CONFIG, listen: "2001:db8::5", clients: [] }, "s.render_hba()");
    expect(hba).toContain("hostssl all       all       2001:db8::5/128   scram-sha-256");
  });

  it("turns ssl on with the host's certificate, and the URI verifies the server (no require_auth before libpq 16)", () => {
    const conf = withService("pg", "PostgresService", PG_CONFIG, "s.render_conf({'name': 'main', 'port': 25432})");
    expect(conf).toContain("ssl = on\nssl_cert_file = '/etc/sparks/tls/current/server.crt'\nssl_key_file = '/etc/sparks/tls/current/server.key'\nssl_ca_file = '/etc/sparks/tls/ca.crt'\n");
    const uri = (version: number) => withService("pg", "PostgresService", { ...PG_CONFIG, version }, "s.uri({'role': 'main', 'port': 25432, 'database': 'app'}, 'pw')").trim();
    expect(uri(15)).toBe("postgresql://main:pw@10.0.0.5:25432/app?sslmode=verify-full&sslrootcert=/etc/sparks/tls/ca.crt");
    expect(uri(16)).toBe("postgresql://main:pw@10.0.0.5:25432/app?sslmode=verify-full&sslrootcert=/etc/sparks/tls/ca.crt&require_auth=scram-sha-256");
  });

  it("refuses a wildcard listen address in its config file", () => {
    expect(python("from sparks_host.instances import check_listen\nprint(check_listen('0.0.0.0'), '|', check_listen('::'), '|', check_listen('10.0.0.5'))").trim())
      .toBe("must be a concrete address, not the wildcard '0.0.0.0' | must be a concrete address, not the wildcard '::' | None");
  });

  it("refuses a client network with host bits set in its config file", () => {
    expect(python("from sparks_host.instances import check_clients\nprint(check_clients(['10.0.0.0/8']), '|', check_clients(['10.0.0.1/8']))").trim())
      .toBe("None | must be a list of networks ADDRESS/PREFIX without host bits, found '10.0.0.1/8'");
  });
});

describe("spark-redis renders TLS-only access", () => {
  it("closes the plain port and serves the host's certificate on the instance's port", () => {
    const conf = withService("redis", "RedisService", REDIS_CONFIG, "s.render_conf({'name': 'main', 'port': 26300})");
    expect(conf).toContain(
      "port 0\ntls-port 26300\ntls-cert-file /etc/sparks/tls/current/server.crt\ntls-key-file /etc/sparks/tls/current/server.key\ntls-ca-cert-file /etc/sparks/tls/ca.crt\ntls-auth-clients no\n",
    );
    expect(conf).not.toMatch(/^port [1-9]/m);
  });

  it("prints a rediss:// URI naming the CA, and runs redis-cli with --tls --cacert and the password in its environment", () => {
    expect(withService("redis", "RedisService", REDIS_CONFIG, "s.uri({'role': 'main', 'port': 26300, 'database': 0}, 'pw')").trim()).toBe(
      "rediss://main:pw@10.0.0.5:26300/0?ssl_ca_certs=/etc/sparks/tls/ca.crt",
    );
    const [argv, env] = JSON.parse(withService("redis", "RedisService", REDIS_CONFIG, "json.dumps(s.client_argv({'role': 'main', 'port': 26300}, 'secret', ['PING']))"));
    expect(argv).toEqual(["/usr/bin/redis-cli", "--no-auth-warning", "--tls", "--cacert", "/etc/sparks/tls/ca.crt", "-h", "10.0.0.5", "-p", "26300", "--user", "main", "PING"]);
    expect(argv.join(" ")).not.toContain("secret");
    expect(env).toEqual({ REDISCLI_AUTH: "secret" });
  });
});
